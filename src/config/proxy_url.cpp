#include "config/proxy_url.hpp"

#include <optional>

#include "config/listen_address.hpp"

namespace dialback {
namespace {

tl::unexpected<std::string> bad(std::string_view why) {
  return tl::unexpected("invalid proxy URL: " + std::string(why));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace

std::string ProxyUrl::display() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (user.empty() ? "" : user + "@") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

tl::expected<ProxyUrl, std::string> parse_proxy_url(std::string_view text) {
  std::string_view rest = text;
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme != "http" && scheme != "HTTP") {
      return bad("the scheme " + std::string(scheme) +
                 ":// is not supported: only http:// proxies (which tunnel with CONNECT)");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return bad("a path, query or fragment is not allowed");
  }
  ProxyUrl out;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view info = rest.substr(0, at);
    const auto colon = info.find(':');
    auto user = percent_decode(info.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? "" : info.substr(colon + 1));
    if (!user || !password) return bad("invalid %-escape in the user or password");
    if (user->empty()) return bad("empty user name before '@'");
    out.user = std::move(*user);
    out.password = std::move(*password);
    rest.remove_prefix(at + 1);
  }
  if (rest.empty()) return bad("missing host");
  const bool bracketed = rest.front() == '[';
  const auto close = rest.find(']');
  const bool has_port = bracketed ? close != std::string_view::npos && close + 1 < rest.size()
                                  : rest.find(':') != std::string_view::npos;
  std::string host_port(rest);
  if (!has_port) host_port += ":1080";
  auto address = parse_connect_address(host_port);
  if (!address) return bad("expected http://[user:password@]host[:port]");
  out.host = std::move(address->host);
  out.port = address->port;
  return out;
}

}  // namespace dialback
