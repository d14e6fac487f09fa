#include "config/config_loader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dialback::config_detail {

tl::expected<std::string, ConfigError> read_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return tl::unexpected(ConfigError{path, 0, "", "cannot read file: is a directory"});
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return tl::unexpected(ConfigError{path, 0, "", std::string("cannot read file: ") + std::strerror(errno)});
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return tl::unexpected(ConfigError{path, 0, "", "cannot read file: I/O error"});
  return content.str();
}

std::filesystem::path config_base_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) absolute = path;
  return absolute.lexically_normal().parent_path();
}

}  // namespace dialback::config_detail
