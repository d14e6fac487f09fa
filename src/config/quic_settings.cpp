#include "config/quic_settings.hpp"

namespace dialback {
namespace {

// Below 1 s an idle timeout drops connections on an ordinary loss burst;
// the upper bound keeps timer arithmetic far from overflow.
constexpr std::chrono::milliseconds kShortestIdleTimeout = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kLongestTimeout = std::chrono::hours(1);
constexpr std::uint64_t kMaxStreams = 1'000'000;

ConfigError error(std::string key, std::string message) {
  return ConfigError{"", 0, std::move(key), std::move(message)};
}

}  // namespace

std::optional<ConfigError> validate_quic_settings(const QuicSettings& settings,
                                                  const std::string& prefix) {
  if (settings.idle_timeout < kShortestIdleTimeout || settings.idle_timeout > kLongestTimeout) {
    return error(prefix + "idle_timeout", "must be from 1s to 1h");
  }
  if (settings.keep_alive.count() < 0) return error(prefix + "keep_alive", "must not be negative");
  if (settings.keep_alive >= settings.idle_timeout) {
    return error(prefix + "keep_alive", "must be less than idle_timeout (or 0: off)");
  }
  if (settings.handshake_timeout.count() <= 0) {
    return error(prefix + "handshake_timeout", "must be greater than zero");
  }
  if (settings.handshake_timeout > kLongestTimeout) {
    return error(prefix + "handshake_timeout", "must be at most 1h");
  }
  if (settings.max_streams < 1 || settings.max_streams > kMaxStreams) {
    return error(prefix + "max_streams", "must be from 1 to " + std::to_string(kMaxStreams));
  }
  return validate_flow_windows(settings.windows, prefix + "windows.");
}

}  // namespace dialback
