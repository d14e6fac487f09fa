// The agent's local service, given as a URL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// "http://host[:port][/base/path]". Only plain http for now.
struct UpstreamUrl {
  std::string url;   // as written
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" without trailing '/'; prepended to request paths

  friend bool operator==(const UpstreamUrl&, const UpstreamUrl&) = default;
};

// Parses an upstream URL. Rejects other schemes, user info, query and
// fragment. The error is a human-readable message without location.
tl::expected<UpstreamUrl, std::string> parse_upstream_url(std::string_view text);

}  // namespace dialback
