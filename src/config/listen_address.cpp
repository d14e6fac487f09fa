#include "config/listen_address.hpp"

#include <charconv>

namespace dialback {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

tl::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return tl::unexpected("invalid address \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

tl::expected<ListenAddress, std::string> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "missing ']'");
    host = text.substr(1, close - 1);
    if (host.empty() || host.find(':') == std::string_view::npos)
      return bad(text, "expected an IPv6 literal inside [ ]");
    for (char c : host) {
      if (!is_ipv6_char(c)) return bad(text, "expected an IPv6 literal inside [ ]");
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad(text, "expected host:port");
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "expected host:port");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad(text, "write IPv6 addresses as [addr]:port");
    for (char c : host) {
      if (!is_name_char(c)) return bad(text, "invalid character in host");
    }
  }
  if (port_text.empty()) return bad(text, "missing port");
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return bad(text, "port must be a number from 0 to 65535");
  }
  ListenAddress out;
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

tl::expected<ListenAddress, std::string> parse_connect_address(std::string_view text) {
  if (!text.empty() && text.front() == ':') return bad(text, "missing host");
  auto parsed = parse_listen_address(text);
  if (!parsed) return parsed;
  if (parsed->port == 0) return bad(text, "port must be a number from 1 to 65535");
  return parsed;
}

std::string to_string(const ListenAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + address.host + "]" : address.host;
  out += ':';
  out += std::to_string(address.port);
  return out;
}

}  // namespace dialback
