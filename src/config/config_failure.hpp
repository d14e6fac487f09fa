// Internal to src/config: the exception that carries a ConfigError out of
// the parsing helpers. Not part of the public API.
#pragma once

#include <exception>
#include <utility>

#include "config/config_error.hpp"

namespace dialback::config_detail {

// Thrown by the parsing helpers, caught by the load_* functions only; never
// leaves src/config.
class ConfigFailure : public std::exception {
 public:
  explicit ConfigFailure(ConfigError error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const ConfigError& error() const noexcept { return error_; }

 private:
  ConfigError error_;
};

}  // namespace dialback::config_detail
