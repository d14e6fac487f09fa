#include "cli_common.hpp"

#include <csignal>
#include <iostream>

namespace dialback::cli {
namespace {

Task<void> shutdown_then_stop(ShutdownFn shutdown, std::chrono::steady_clock::time_point deadline,
                              asio::io_context* io) {
  co_await shutdown(deadline);
  io->stop();
}

}  // namespace

void LogFlags::add_to(CLI::App& app) {
  app.add_option("--log-level", level, "trace|debug|info|warn|error|off")->capture_default_str();
  app.add_option("--log-format", format, "text|json")->capture_default_str();
}

tl::expected<LogOptions, std::string> LogFlags::options() const {
  LogOptions options;
  if (!parse_log_level(level, options.level)) {
    return tl::unexpected("--log-level: unknown level '" + level + "'");
  }
  if (format == "json") {
    options.format = LogFormat::json;
  } else if (format != "text") {
    return tl::unexpected("--log-format: expected text or json, got '" + format + "'");
  }
  return options;
}

void run_until_signal(asio::io_context& io, Logger logger, std::chrono::milliseconds drain,
                      ShutdownFn shutdown) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool draining = false;
  std::function<void(const error_code&, int)> on_signal;
  on_signal = [&](const error_code& ec, int signal) {
    if (ec) return;
    if (draining) {
      logger->warn("second signal: stopping now");
      io.stop();
      return;
    }
    draining = true;
    logger->info("received {}: draining (up to {} ms)", signal == SIGINT ? "SIGINT" : "SIGTERM",
                 drain.count());
    begin_shutdown(io, shutdown, drain);
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
}

void begin_shutdown(asio::io_context& io, ShutdownFn shutdown, std::chrono::milliseconds drain) {
  asio::co_spawn(io, shutdown_then_stop(std::move(shutdown), std::chrono::steady_clock::now() + drain, &io),
                 asio::detached);
}

void print_error(std::string_view message) {
  std::cerr << "dialback: error: " << message << std::endl;
}

}  // namespace dialback::cli
