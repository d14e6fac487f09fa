// The URL of an external credential check (`tunnels.<name>.auth.external.url`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// "http://host[:port][/path][?query]".
struct ExternalAuthUrl {
  std::string url;   // as written
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string target;  // path and query for the request line; "/" when none

  // "http://host:port/path": the URL without its query, for logs (a query
  // might carry a secret of the endpoint's).
  std::string display() const;

  friend bool operator==(const ExternalAuthUrl&, const ExternalAuthUrl&) = default;
};

// Parses an external auth URL. Only http:// is supported (https:// is
// refused with a message saying so); rejects user info, a fragment, a
// missing host, a port outside 1-65535 and control characters or spaces in
// the path. The error is a message without location.
tl::expected<ExternalAuthUrl, std::string> parse_external_auth_url(std::string_view text);

}  // namespace dialback
