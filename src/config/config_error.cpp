#include "config/config_error.hpp"

namespace dialback {

std::string ConfigError::to_string() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) {
      out += ':';
      out += std::to_string(line);
    }
    out += ": ";
  }
  if (!key.empty()) {
    out += key;
    out += ": ";
  }
  out += message;
  return out;
}

}  // namespace dialback
