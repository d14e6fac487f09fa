// Tunables of one agent session that every transport honours, from the
// edge's `agents` or the agent's config section.
#pragma once

#include <chrono>
#include <cstddef>

#include "config/flow_windows.hpp"

namespace dialback {

struct SessionSettings {
  std::chrono::milliseconds ping_interval{std::chrono::seconds(15)};
  std::chrono::milliseconds ping_timeout{std::chrono::seconds(10)};
  FlowWindows windows;                       // what the peer may send ahead
  std::size_t max_header_bytes = 64 * 1024;  // largest header block accepted from the peer
};

}  // namespace dialback
