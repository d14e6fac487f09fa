#include "config/parse_context.hpp"

namespace dialback::config_detail {

ParseContext::ParseContext(std::string file, std::filesystem::path base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

void ParseContext::fail(int line, std::string key, std::string message) const {
  throw ConfigFailure(ConfigError{file_, line, std::move(key), std::move(message)});
}

void ParseContext::note(const std::string& key, int line) { lines_.insert_or_assign(key, line); }

ConfigError ParseContext::locate(ConfigError error) const {
  error.file = file_;
  std::string_view key = error.key;
  while (!key.empty()) {
    if (const auto it = lines_.find(key); it != lines_.end()) {
      error.line = it->second;
      return error;
    }
    const auto cut = key.find_last_of(".[");
    key = cut == std::string_view::npos ? std::string_view{} : key.substr(0, cut);
  }
  error.line = 0;
  return error;
}

std::string ParseContext::resolve_path(const std::string& path) const {
  const std::filesystem::path p(path);
  if (base_dir_.empty() || p.is_absolute()) return path;
  return (base_dir_ / p).lexically_normal().string();
}

}  // namespace dialback::config_detail
