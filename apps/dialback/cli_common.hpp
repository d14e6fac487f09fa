// Shared pieces of the subcommands: exit codes, logging flags, and running
// an io_context until SIGINT/SIGTERM triggers a graceful shutdown.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "core/logging.hpp"

namespace dialback::cli {

enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitAuthRefused = 3 };

struct LogFlags {
  std::string level = "info";
  std::string format = "text";
  void add_to(CLI::App& app);
  // Fails (message) on an unknown level or format.
  tl::expected<LogOptions, std::string> options() const;
};

using ShutdownFn = std::function<Task<void>(std::chrono::steady_clock::time_point deadline)>;

// Runs `io` until it has no work or a signal arrives; on the first SIGINT or
// SIGTERM runs `shutdown` with a deadline `drain` from now, then stops `io`.
// A second signal stops at once.
void run_until_signal(asio::io_context& io, Logger logger, std::chrono::milliseconds drain,
                      ShutdownFn shutdown);

// Runs `shutdown` with a deadline `drain` from now, then stops `io`.
void begin_shutdown(asio::io_context& io, ShutdownFn shutdown, std::chrono::milliseconds drain);

// Prints "dialback: error: <message>" to stderr.
void print_error(std::string_view message);

}  // namespace dialback::cli
