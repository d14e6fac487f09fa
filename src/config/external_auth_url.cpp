#include "config/external_auth_url.hpp"

#include "config/listen_address.hpp"

namespace dialback {
namespace {

constexpr std::string_view kScheme = "http://";

tl::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return tl::unexpected("invalid URL \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string ExternalAuthUrl::display() const {
  const auto query = target.find('?');
  return "http://" + to_string(ListenAddress{host, port}) + target.substr(0, query);
}

tl::expected<ExternalAuthUrl, std::string> parse_external_auth_url(std::string_view text) {
  if (text.starts_with("https://")) {
    return bad(text,
               "https:// is not supported yet; use http:// (a local or otherwise "
               "protected endpoint)");
  }
  if (!text.starts_with(kScheme)) return bad(text, "expected http://host[:port][/path]");
  const std::string_view rest = text.substr(kScheme.size());
  if (rest.find('#') != std::string_view::npos) return bad(text, "a fragment is not allowed");
  const auto path_start = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, path_start);
  const std::string_view target =
      path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (authority.empty()) return bad(text, "missing host");
  if (authority.find('@') != std::string_view::npos) return bad(text, "user info is not allowed");
  const bool bracketed = authority.front() == '[';
  const auto close = authority.find(']');
  const bool has_port = bracketed
                            ? (close != std::string_view::npos && close + 1 < authority.size())
                            : authority.find(':') != std::string_view::npos;
  std::string host_port(authority);
  if (!has_port) host_port += ":80";
  auto address = parse_connect_address(host_port);
  if (!address) return bad(text, "expected http://host[:port][/path] with a port from 1 to 65535");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad(text, "invalid character in path");
    }
  }
  ExternalAuthUrl out;
  out.url = std::string(text);
  out.host = std::move(address->host);
  out.port = address->port;
  out.target =
      target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return out;
}

}  // namespace dialback
