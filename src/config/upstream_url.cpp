#include "config/upstream_url.hpp"

#include "config/listen_address.hpp"

namespace dialback {
namespace {

constexpr std::string_view kScheme = "http://";

tl::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return tl::unexpected("invalid upstream URL \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

tl::expected<UpstreamUrl, std::string> parse_upstream_url(std::string_view text) {
  if (!text.starts_with(kScheme)) return bad(text, "only http:// URLs are supported");
  const std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad(text, "query and fragment are not allowed");
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.empty()) return bad(text, "missing host");
  if (authority.find('@') != std::string_view::npos) return bad(text, "user info is not allowed");

  // Reuse the address parser: add the default port when none is written.
  const bool bracketed = authority.front() == '[';
  const auto close = authority.find(']');
  const bool has_port = bracketed ? (close != std::string_view::npos && close + 1 < authority.size())
                                  : authority.find(':') != std::string_view::npos;
  std::string host_port(authority);
  if (!has_port) host_port += ":80";
  auto address = parse_connect_address(host_port);
  if (!address) return bad(text, "expected http://host[:port][/path]");

  UpstreamUrl out;
  out.url = std::string(text);
  out.host = std::move(address->host);
  out.port = address->port;
  std::string base(path);
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (char c : base) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad(text, "invalid character in path");
  }
  out.base_path = std::move(base);
  return out;
}

}  // namespace dialback
