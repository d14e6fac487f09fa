// The relay's command-line settings: what to forward (--udp, --tcp) and how
// the simulated path behaves (--loss, --delay, ...), with their parsers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dialback::loss_relay {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;

// One --udp or --tcp value: LISTEN_PORT:TARGET_HOST:TARGET_PORT.
struct ForwardSpec {
  std::uint16_t listen_port = 0;
  std::string target_host;  // without the brackets of an IPv6 literal
  std::uint16_t target_port = 0;
};

// The simulated path, the same for every flow and both directions.
struct PathOptions {
  double loss = 0;     // per datagram or TCP segment, each direction
  Duration delay{0};   // one way
  Duration jitter{0};  // extra one-way delay, uniform in [0, jitter]; order is kept
  std::optional<Duration> tcp_recovery;  // a lost segment followed by more (fast retransmit)
  std::optional<Duration> tcp_rto;       // a lost segment at the tail (retransmission timeout)
  std::uint64_t seed = 1;
  std::size_t queue_bytes = 4 << 20;  // per direction of each flow or connection
  std::size_t max_udp_flows = 64;     // per --udp
  Duration udp_idle = std::chrono::seconds(60);
  std::size_t max_tcp_connections = 64;  // per --tcp

  Duration rtt() const { return 2 * delay; }
  // Defaults: one RTT + 1 ms; max(200 ms, 2 RTT), Linux's minimum RTO being 200 ms.
  Duration fast_recovery() const;
  Duration retransmission_timeout() const;
  // How soon more data must follow a lost segment for it to count as
  // followed: the RTT, but at least 1 ms so that --delay 0 still tells a
  // stream (the next read comes within microseconds) from an idle sender.
  Duration followed_within() const;
};

// "LISTEN_PORT:HOST:PORT" (HOST may be "[v6]"); the error in `error`.
std::optional<ForwardSpec> parse_forward(std::string_view text, std::string& error);

// "0", or a decimal number with a unit: ns, us, ms, s (e.g. "10ms", "1.5s").
std::optional<Duration> parse_duration(std::string_view text);

}  // namespace dialback::loss_relay
