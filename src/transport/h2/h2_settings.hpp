// Tunables of one reversed-HTTP/2 session (docs/protocol.md §3).
#pragma once

#include <chrono>
#include <cstdint>

#include "core/token_bucket.hpp"

namespace dialback::h2 {

enum class Role {
  client,  // the edge: opens streams
  server,  // the agent: answers them
};

// Which side writes the 24-byte connection preface. In the `h2` transport the
// client (edge) writes it, as in RFC 9113. In `rhttp` the agent writes it and
// the edge only answers with SETTINGS (docs/protocol.md §5).
enum class PrefaceMode { standard, reversed };

struct H2Settings {
  std::uint32_t max_concurrent_streams = 256;
  // Defaults as config/flow_windows.hpp: one stream is not window-limited at 100 ms RTT.
  std::uint32_t connection_window = 32u << 20;
  std::uint32_t stream_window = 16u << 20;
  // Received header blocks over either limit are dropped; the server answers 431.
  std::uint32_t max_header_list_size = 64u << 10;  // RFC 9113 size: name + value + 32 per field
  std::size_t max_header_fields = 0;               // 0: no limit on the field count
  // A writer waits once this many bytes of its body are queued in the engine.
  std::size_t stream_send_buffer = 256u << 10;
  // Server role: streams the peer may reset (RST_STREAM) before their
  // response ended. Past the budget the session ends with GOAWAY
  // ENHANCE_YOUR_CALM (HTTP/2 rapid reset, CVE-2023-44487). Disabled (burst
  // 0) on the agent: its only peer is its own edge, which limits its public
  // clients; a limit there would let public resets close the tunnel.
  RateLimit peer_resets;
  // Server role, RFC 9113 to the letter (the edge's public HTTP/2 and the
  // agent): closed streams are remembered (nghttp2 then answers frames on
  // them with STREAM_CLOSED), and a HEADERS frame opening a stream with an
  // id lower than one already opened is a connection error PROTOCOL_ERROR
  // (nghttp2 ignores it). Off on the edge's tunnel side (client role, where
  // the cases do not apply, and thousands of sessions would each remember
  // their closed streams).
  bool strict = false;
};

struct LivenessSettings {
  std::chrono::milliseconds ping_interval{15'000};
  std::chrono::milliseconds ping_timeout{10'000};
};

}  // namespace dialback::h2
