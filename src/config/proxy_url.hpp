// The HTTP proxy an agent dials the edge through (`proxy:`, --proxy,
// HTTPS_PROXY; docs/configuration.md, "Proxies").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// "http://[user[:password]@]host[:port]": a proxy that tunnels with CONNECT.
struct ProxyUrl {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 1080;
  std::string user;  // percent-decoded; empty: no credentials
  std::string password;

  // "http://user@host:port": for logs, without the password.
  std::string display() const;

  friend bool operator==(const ProxyUrl&, const ProxyUrl&) = default;
};

// Parses a proxy URL as curl reads HTTPS_PROXY: the scheme may be left out
// (http), the port defaults to 1080, a trailing "/" is allowed; user and
// password are percent-decoded. Other schemes (https://, socks5://), a
// path, query or fragment are errors. The error is a human-readable
// message without location, and never contains the password.
tl::expected<ProxyUrl, std::string> parse_proxy_url(std::string_view text);

}  // namespace dialback
