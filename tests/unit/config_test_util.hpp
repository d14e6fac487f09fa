// Helpers shared by the config_test sources.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

namespace dialback::test {

// `base` with the first occurrence of `find` replaced; an empty `find`
// appends `replace` at the end.
inline std::string mutate(std::string base, std::string_view find, std::string_view replace) {
  if (find.empty()) return base + std::string(replace);
  const auto pos = base.find(find);
  EXPECT_NE(pos, std::string::npos) << "test setup: \"" << find << "\" not in the base config";
  if (pos == std::string::npos) return base;
  base.replace(pos, find.size(), replace);
  return base;
}

// One invalid config: a mutation of a valid base and the exact location
// expected in the error.
struct InvalidCase {
  const char* name;
  std::string_view find;
  std::string_view replace;
  int line;
  const char* key;
  const char* message;  // substring of the message
};

// Shows the case name instead of bytes in gtest failure messages.
inline void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

inline std::string case_name(const testing::TestParamInfo<InvalidCase>& info) { return info.param.name; }

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dialback-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  std::filesystem::path write(const std::string& name, std::string_view content) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace dialback::test
