// QUIC transport tunables shared by the edge's agent listener
// (agents.quic) and the agent (its quic section); docs/configuration.md.
// Both ends advertise their own values: QUIC's effective idle timeout is
// the smaller of the two peers' (RFC 9000 §10.1), and each end's windows
// and stream limit bound what the *other* end may send or open.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config_error.hpp"
#include "config/flow_windows.hpp"

namespace dialback {

// The congestion controller of the data a QUIC end sends (ngtcp2's).
// bbr2: paces by the measured bandwidth and RTT and does not take every
// loss for congestion, so a lossy path keeps most of its throughput.
// cubic: loss-based, backs off on every loss (RFC 9438).
enum class CongestionControl { bbr2, cubic };

struct QuicSettings {
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};  // QUIC max_idle_timeout
  // PING when the connection was silent this long; 0 = off.
  std::chrono::milliseconds keep_alive{std::chrono::seconds(10)};
  // The QUIC handshake (TLS 1.3 included) must complete within this.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // Concurrent bidirectional streams the peer may open / we allow
  // (initial_max_streams_bidi).
  std::uint64_t max_streams = 1000;
  // Per-stream and per-connection receive windows (QUIC initial_max_stream_data_bidi_*
  // and initial_max_data). The loaders default them to the HTTP/2 windows of
  // the same side (agents.stream_window/connection_window, or the agent's).
  FlowWindows windows;
  CongestionControl congestion_control = CongestionControl::bbr2;

  friend bool operator==(const QuicSettings&, const QuicSettings&) = default;
};

// Checks the bounds in docs/configuration.md: idle_timeout 1s-1h;
// keep_alive 0 (off) or below idle_timeout, since a PING sent after the
// peer already dropped the connection keeps nothing alive; handshake_timeout
// above 0 and at most 1h; max_streams 1-1000000; windows as HTTP/2's. The
// error names `prefix` + the key ("agents.quic.idle_timeout",
// "quic.windows.stream_window").
std::optional<ConfigError> validate_quic_settings(const QuicSettings& settings,
                                                  const std::string& prefix);

}  // namespace dialback
