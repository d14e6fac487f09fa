// HTTP/2 flow-control windows of one kind of connection (tunnel sessions,
// public HTTP/2 clients): how much a peer may send before we read it. The
// defaults keep one stream from being window-limited at 100 ms RTT up to
// about 1.3 Gbit/s (16 MiB / 100 ms); a slow reader makes the receiver hold
// at most one stream window per stream and one connection window in all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config_error.hpp"

namespace dialback {

struct FlowWindows {
  std::uint32_t stream = 16u << 20;
  std::uint32_t connection = 32u << 20;

  friend bool operator==(const FlowWindows&, const FlowWindows&) = default;
};

// Checks both windows against HTTP/2's range (64 KiB - 1 to 2 GiB - 1);
// the error names `prefix` + "stream_window" / "connection_window".
std::optional<ConfigError> validate_flow_windows(const FlowWindows& windows,
                                                 const std::string& prefix);

}  // namespace dialback
