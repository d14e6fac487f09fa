// dialback-scale: opens N agent sessions to one running edge from this one
// process and prints, as key=value lines, the edge's RSS before, with all
// N registered and after they closed, per-session costs on both sides and
// the time to register them. bench/scale.sh starts the edge and runs it.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "config/agent_config.hpp"
#include "config/listen_address.hpp"
#include "core/logging.hpp"
#include "scale_run.hpp"

namespace {

using namespace dialback;

double per_session(long with, long without, int sessions) {
  return sessions > 0 ? static_cast<double>(with - without) / sessions : 0.0;
}

void print(const bench::ScaleOptions& options, const bench::ScaleResult& r) {
  std::printf("sessions=%d\n", options.sessions);
  std::printf("registered=%d\n", r.registered);
  std::printf("register_s=%.2f\n", r.register_seconds);
  std::printf("edge_rss_start_kib=%ld\n", r.edge_rss_start_kib);
  std::printf("edge_rss_sessions_kib=%ld\n", r.edge_rss_sessions_kib);
  std::printf("edge_kib_per_session=%.1f\n",
              per_session(r.edge_rss_sessions_kib, r.edge_rss_start_kib, r.registered));
  std::printf("edge_rss_after_kib=%ld\n", r.edge_rss_after_kib);
  std::printf("close_s=%.2f\n", r.close_seconds);
  std::printf("closed_all=%d\n", r.closed_all ? 1 : 0);
  std::printf("agent_rss_start_kib=%ld\n", r.self_rss_start_kib);
  std::printf("agent_rss_sessions_kib=%ld\n", r.self_rss_sessions_kib);
  std::printf("agent_kib_per_session=%.1f\n",
              per_session(r.self_rss_sessions_kib, r.self_rss_start_kib, r.registered));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Opens N agent sessions to one edge and reports memory per session"};
  std::string edge;
  std::string token_file;
  std::string log_level = "warn";
  int timeout_seconds = 120;
  bench::ScaleOptions options;
  app.add_option("--edge", edge, "the edge's agent listener, HOST:PORT")->required();
  app.add_option("--edge-pid", options.edge_pid, "the edge's process id (RSS from /proc)")
      ->required();
  app.add_option("--tunnel", options.tunnel, "tunnel name")->required();
  app.add_option("--token-file", token_file, "file holding the agent token")->required();
  app.add_option("--ca", options.ca, "CA bundle that verifies the edge")->required();
  app.add_option("--server-name", options.server_name, "TLS name of the edge (default: host)");
  std::string transport = "h2";
  app.add_option("--transport", transport, "h2 (TCP) or h3 (QUIC, UDP at the same port)")
      ->check(CLI::IsMember({"h2", "h3"}));
  app.add_option("--sessions", options.sessions, "sessions to open")->check(CLI::Range(1, 1000000));
  app.add_option("--batch", options.batch, "sessions dialed at once (default 100)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--timeout", timeout_seconds, "seconds to register all, and again to close all")
      ->check(CLI::Range(1, 3600));
  app.add_option("--log-level", log_level, "agent log level (default warn)");
  CLI11_PARSE(app, argc, argv);

  auto address = parse_connect_address(edge);
  if (!address) {
    std::cerr << "dialback-scale: --edge: " << address.error() << "\n";
    return 2;
  }
  options.host = address->host;
  options.port = address->port;
  options.transport = *parse_agent_transport(transport);
  auto token = read_token_file(token_file);
  if (!token) {
    std::cerr << "dialback-scale: --token-file: " << token.error().message << "\n";
    return 2;
  }
  options.token = *token;
  options.timeout = std::chrono::seconds(timeout_seconds);
  LogOptions log_options;
  if (!parse_log_level(log_level, log_options.level)) {
    std::cerr << "dialback-scale: --log-level: unknown level\n";
    return 2;
  }

  asio::io_context io(1);
  bench::ScaleResult result;
  bool finished = false;
  auto logger = make_logger("scale", log_options);
  asio::co_spawn(io, bench::run_scale(io.get_executor(), options, logger),
                 [&](std::exception_ptr error, bench::ScaleResult r) {
                   if (error) return;
                   result = r;
                   finished = true;
                 });
  io.run();
  if (!finished) {
    std::cerr << "dialback-scale: the run failed\n";
    return 1;
  }
  print(options, result);
  return result.registered_all && result.closed_all ? 0 : 1;
}
