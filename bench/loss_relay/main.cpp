// dialback-loss-relay: relays UDP and TCP on loopback with simulated packet
// loss and delay, for benchmarking transports where `tc netem` is missing.
// See README.md for the loss model, its limits and examples. Prints "ready"
// on stdout once every listener is bound; on SIGINT or SIGTERM (and every
// --stats-every) one summary line per direction of each forward; exits 0
// on SIGINT or SIGTERM. On SIGUSR1 every UDP flow moves to a new upstream
// port, as after a NAT rebinding (tests of QUIC connection migration).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "relay_options.hpp"
#include "tcp_relay.hpp"
#include "udp_relay.hpp"

namespace {

using namespace dialback::loss_relay;
namespace asio = boost::asio;

struct Relays {
  std::vector<std::unique_ptr<UdpRelay>> udp;
  std::vector<std::unique_ptr<TcpRelay>> tcp;

  void print_stats() const {
    for (const auto& relay : udp) relay->print_stats(stdout);
    for (const auto& relay : tcp) relay->print_stats(stdout);
    std::fflush(stdout);
  }
};

// A --delay style option: the parsed value into `out`, or a usage error.
bool duration_option(const std::string& name, const std::string& text, Duration& out) {
  if (text.empty()) return true;
  auto value = parse_duration(text);
  if (!value) {
    std::cerr << "dialback-loss-relay: " << name
              << ": not a duration (e.g. 0, 250us, 10ms, 1.5s): " << text << "\n";
    return false;
  }
  out = *value;
  return true;
}

// SIGUSR1, for as long as the relay runs: every UDP flow rebinds. TCP
// connections stay: a NAT that rebinds breaks them, which tests nothing
// that a killed connection does not.
void rebind_on_signal(asio::signal_set& signals, const Relays& relays) {
  signals.async_wait([&signals, &relays](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::size_t rebound = 0;
    for (const auto& relay : relays.udp) rebound += relay->rebind();
    std::cerr << "dialback-loss-relay: SIGUSR1: " << rebound << " UDP flows rebound\n";
    rebind_on_signal(signals, relays);
  });
}

void print_stats_every(asio::steady_timer& timer, Duration period, const Relays& relays) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, &relays](const boost::system::error_code& ec) {
    if (ec) return;
    relays.print_stats();
    print_stats_every(timer, period, relays);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Relays UDP and TCP with simulated packet loss and delay (see README.md)"};
  std::vector<std::string> udp_specs;
  std::vector<std::string> tcp_specs;
  std::string bind_text = "127.0.0.1";
  std::string delay_text, jitter_text, recovery_text, rto_text, idle_text, stats_text;
  PathOptions options;
  app.add_option("--udp", udp_specs, "LISTEN_PORT:TARGET_HOST:TARGET_PORT, a UDP forward");
  app.add_option("--tcp", tcp_specs, "LISTEN_PORT:TARGET_HOST:TARGET_PORT, a TCP forward");
  app.add_option("--bind", bind_text, "address the listeners bind (default 127.0.0.1)");
  app.add_option("--loss", options.loss,
                 "probability that a datagram or TCP segment is lost, each direction (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--delay", delay_text, "one-way delay, each direction (e.g. 10ms; default 0)");
  app.add_option("--jitter", jitter_text,
                 "extra one-way delay, uniform in [0, JITTER]; order is kept (default 0)");
  app.add_option("--tcp-recovery", recovery_text,
                 "extra delay of a lost TCP segment followed by more (default 2*delay + 1ms)");
  app.add_option("--tcp-rto", rto_text,
                 "extra delay of a lost TCP segment at the tail (default max(200ms, 4*delay))");
  app.add_option("--seed", options.seed, "seed of the per-flow, per-direction PRNGs (default 1)");
  app.add_option("--queue-bytes", options.queue_bytes,
                 "bytes queued per direction of a flow or connection: UDP drops beyond, TCP "
                 "stops reading (default 4194304)")
      ->check(CLI::Range(std::size_t{1} << 16, std::size_t{1} << 34));
  app.add_option("--max-udp-flows", options.max_udp_flows,
                 "client addresses per --udp at once (default 64)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--udp-idle", idle_text, "a UDP flow idle this long is closed (default 60s)");
  app.add_option("--max-tcp-connections", options.max_tcp_connections,
                 "connections per --tcp at once (default 64)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--stats-every", stats_text, "also print the summary this often (e.g. 5s)");
  CLI11_PARSE(app, argc, argv);

  Duration stats_every{0};
  Duration recovery{0};
  Duration rto{0};
  if (!duration_option("--delay", delay_text, options.delay) ||
      !duration_option("--jitter", jitter_text, options.jitter) ||
      !duration_option("--tcp-recovery", recovery_text, recovery) ||
      !duration_option("--tcp-rto", rto_text, rto) ||
      !duration_option("--udp-idle", idle_text, options.udp_idle) ||
      !duration_option("--stats-every", stats_text, stats_every)) {
    return 2;
  }
  if (!recovery_text.empty()) options.tcp_recovery = recovery;
  if (!rto_text.empty()) options.tcp_rto = rto;
  if (options.udp_idle.count() <= 0) {
    std::cerr << "dialback-loss-relay: --udp-idle must be positive\n";
    return 2;
  }
  if (udp_specs.empty() && tcp_specs.empty()) {
    std::cerr << "dialback-loss-relay: nothing to relay: give --udp or --tcp\n";
    return 2;
  }
  boost::system::error_code ec;
  const auto bind = asio::ip::make_address(bind_text, ec);
  if (ec) {
    std::cerr << "dialback-loss-relay: --bind: not an IP address: " << bind_text << "\n";
    return 2;
  }

  // A relay writing to a closed peer gets an error, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io(1);
  Relays relays;
  for (const auto* specs : {&udp_specs, &tcp_specs}) {
    const bool is_udp = specs == &udp_specs;
    for (const auto& text : *specs) {
      std::string error;
      auto spec = parse_forward(text, error);
      if (!spec) {
        std::cerr << "dialback-loss-relay: " << (is_udp ? "--udp " : "--tcp ") << text << ": "
                  << error << "\n";
        return 2;
      }
      if (is_udp) {
        relays.udp.push_back(
            std::make_unique<UdpRelay>(io, options, std::move(*spec), relays.udp.size()));
        error = relays.udp.back()->listen(bind);
      } else {
        relays.tcp.push_back(
            std::make_unique<TcpRelay>(io, options, std::move(*spec), relays.tcp.size()));
        error = relays.tcp.back()->listen(bind);
      }
      if (!error.empty()) {
        std::cerr << "dialback-loss-relay: " << text << ": " << error << "\n";
        return 1;
      }
    }
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& signal_ec, int) {
    if (signal_ec) return;
    relays.print_stats();
    io.stop();
  });
  asio::signal_set rebind_signals(io, SIGUSR1);
  rebind_on_signal(rebind_signals, relays);
  asio::steady_timer stats_timer(io);
  if (stats_every.count() > 0) print_stats_every(stats_timer, stats_every, relays);

  for (const auto& relay : relays.udp) {
    std::cerr << "dialback-loss-relay: " << relay->name() << "\n";
  }
  for (const auto& relay : relays.tcp) {
    std::cerr << "dialback-loss-relay: " << relay->name() << "\n";
  }
  std::printf("ready\n");
  std::fflush(stdout);
  io.run();
  return 0;
}
