// Internal to src/config: state of one config load (file label, base
// directory, where each key was seen). Not part of the public API.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "config/config_error.hpp"
#include "config/config_failure.hpp"

namespace dialback::config_detail {

class ParseContext {
 public:
  // `base_dir` resolves relative paths; empty keeps them as written.
  ParseContext(std::string file, std::filesystem::path base_dir);

  [[noreturn]] void fail(int line, std::string key, std::string message) const;

  // Remembers the (1-based) line where `key` was written.
  void note(const std::string& key, int line);

  // Adds file and line to an error from a validator: the line of `key`, or
  // of its nearest recorded parent ("a.b[2].c" -> "a.b[2]" -> "a.b" -> "a").
  ConfigError locate(ConfigError error) const;

  // `path` made absolute against the base directory, if it is relative.
  std::string resolve_path(const std::string& path) const;

  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
  std::filesystem::path base_dir_;
  std::map<std::string, int, std::less<>> lines_;
};

}  // namespace dialback::config_detail
