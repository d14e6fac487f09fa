#include "config/flow_windows.hpp"

namespace dialback {
namespace {

constexpr std::uint32_t kMinWindow = 65'535;            // RFC 9113 initial window
constexpr std::uint32_t kMaxWindow = 0x7fff'ffff;       // RFC 9113 §6.9.1

}  // namespace

std::optional<ConfigError> validate_flow_windows(const FlowWindows& windows,
                                                 const std::string& prefix) {
  const char* kRange = "must be from 65535 bytes to 2GiB-1";
  if (windows.stream < kMinWindow || windows.stream > kMaxWindow) {
    return ConfigError{"", 0, prefix + "stream_window", kRange};
  }
  if (windows.connection < kMinWindow || windows.connection > kMaxWindow) {
    return ConfigError{"", 0, prefix + "connection_window", kRange};
  }
  return std::nullopt;
}

}  // namespace dialback
