// Logger construction. Every component receives its logger from its owner;
// nothing uses spdlog's default (global) logger.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace dialback {

using Logger = std::shared_ptr<spdlog::logger>;

enum class LogFormat { text, json };

struct LogOptions {
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::text;
};

// A logger named `name` writing to stderr in the given format.
Logger make_logger(std::string name, const LogOptions& options);

// A logger that discards everything (tests, library users who do not care).
Logger make_null_logger(std::string name = "null");

// Parses "trace|debug|info|warn|error|off"; false when unknown.
bool parse_log_level(std::string_view text, spdlog::level::level_enum& out);

}  // namespace dialback
