#include "relay_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace dialback::loss_relay {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Duration PathOptions::fast_recovery() const {
  return tcp_recovery ? *tcp_recovery : rtt() + std::chrono::milliseconds(1);
}

Duration PathOptions::retransmission_timeout() const {
  if (tcp_rto) return *tcp_rto;
  return std::max<Duration>(std::chrono::milliseconds(200), 2 * rtt());
}

Duration PathOptions::followed_within() const {
  return std::max<Duration>(rtt(), std::chrono::milliseconds(1));
}

std::optional<ForwardSpec> parse_forward(std::string_view text, std::string& error) {
  const auto first = text.find(':');
  const auto last = text.rfind(':');
  if (first == std::string_view::npos || first == last) {
    error = "expected LISTEN_PORT:TARGET_HOST:TARGET_PORT";
    return std::nullopt;
  }
  ForwardSpec spec;
  auto listen = parse_port(text.substr(0, first));
  auto target = parse_port(text.substr(last + 1));
  if (!listen || !target || *target == 0) {
    error = "a port is not a number in 0..65535 (the target's not 0)";
    return std::nullopt;
  }
  std::string_view host = text.substr(first + 1, last - first - 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    error = "empty target host";
    return std::nullopt;
  }
  spec.listen_port = *listen;
  spec.target_host = std::string(host);
  spec.target_port = *target;
  return spec;
}

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration{0};
  const auto unit_at = text.find_first_not_of("0123456789.");
  if (unit_at == 0 || unit_at == std::string_view::npos) return std::nullopt;
  const std::string number(text.substr(0, unit_at));
  const std::string_view unit = text.substr(unit_at);
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  double nanoseconds_per_unit = 0;
  if (unit == "ns") {
    nanoseconds_per_unit = 1;
  } else if (unit == "us") {
    nanoseconds_per_unit = 1e3;
  } else if (unit == "ms") {
    nanoseconds_per_unit = 1e6;
  } else if (unit == "s") {
    nanoseconds_per_unit = 1e9;
  } else {
    return std::nullopt;
  }
  const double nanoseconds = value * nanoseconds_per_unit;
  if (nanoseconds > 3600e9) return std::nullopt;  // an hour is surely a typo
  return std::chrono::duration_cast<Duration>(
      std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(nanoseconds))));
}

}  // namespace dialback::loss_relay
