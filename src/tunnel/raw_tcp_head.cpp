#include "tunnel/raw_tcp_head.hpp"

#include <charconv>
#include <string_view>

namespace dialback {
namespace {

// "ip:port" or "[ipv6]:port".
std::optional<tcp::endpoint> parse_endpoint(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address without brackets
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  error_code bad;
  const auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) return std::nullopt;
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

}  // namespace

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

RequestHead raw_tcp_request(const tcp::endpoint& client, const tcp::endpoint& listener,
                            std::string request_id) {
  RequestHead head;
  head.method = "CONNECT";
  head.authority = endpoint_text(listener);
  head.headers.push_back({"forwarded", "for=\"" + endpoint_text(client) + "\";by=\"" +
                                           endpoint_text(listener) + "\""});
  head.headers.push_back({"x-request-id", std::move(request_id)});
  return head;
}

std::optional<RawTcpPeers> raw_tcp_peers(const RequestHead& head) {
  const auto forwarded = find_header(head.headers, "forwarded");
  if (!forwarded) return std::nullopt;
  std::optional<tcp::endpoint> client;
  std::optional<tcp::endpoint> listener;
  std::string_view rest = *forwarded;
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find(';'), rest.size());
    std::string_view pair = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
    value = value.substr(1, value.size() - 2);
    if (key == "for") client = parse_endpoint(value);
    if (key == "by") listener = parse_endpoint(value);
  }
  if (!client || !listener) return std::nullopt;
  return RawTcpPeers{*client, *listener};
}

}  // namespace dialback
