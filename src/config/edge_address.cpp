#include "config/edge_address.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "config/listen_address.hpp"
#include "core/ascii.hpp"
#include "core/identity.hpp"

namespace dialback {
namespace {

constexpr std::string_view kScheme = "rc://";
constexpr std::string_view kForm = "rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT";

tl::unexpected<std::string> bad(std::string_view text, std::string_view why) {
  return tl::unexpected("invalid rc:// address \"" + std::string(text) + "\": " + std::string(why));
}

// One of NODE, CLUSTER, TENANT: empty (not named) or an identity.
std::optional<std::string> check_part(std::string_view name, std::string_view value) {
  if (value.empty() || is_valid_identity(value)) return std::nullopt;
  return std::string(name) + " \"" + std::string(value) +
         "\" must be 1-63 characters of [A-Za-z0-9._-]";
}

tl::expected<EdgeAddress, std::string> parse_rc(std::string_view text) {
  const std::string_view rest = text.substr(kScheme.size());
  const auto at = rest.find('@');
  if (at == std::string_view::npos)
    return bad(text, "missing '@' (expected " + std::string(kForm) + ")");
  if (rest.find('@', at + 1) != std::string_view::npos) return bad(text, "more than one '@'");

  EdgeAddress out;
  out.rc = true;
  const std::string_view identity = rest.substr(0, at);
  if (std::count(identity.begin(), identity.end(), ':') != 2) {
    return bad(text,
               "expected NODE:CLUSTER:TENANT before '@' (three parts, each may be empty, "
               "separated by two ':')");
  }
  const auto first = identity.find(':');
  const auto second = identity.find(':', first + 1);
  const std::pair<std::string_view, std::string*> parts[] = {{"node", &out.identity.node},
                                                             {"cluster", &out.identity.cluster},
                                                             {"tenant", &out.identity.tenant}};
  const std::string_view values[] = {identity.substr(0, first),
                                     identity.substr(first + 1, second - first - 1),
                                     identity.substr(second + 1)};
  for (std::size_t i = 0; i < 3; ++i) {
    if (auto why = check_part(parts[i].first, values[i])) return bad(text, *why);
    *parts[i].second = std::string(values[i]);
  }

  // HOST:PORT:COUNT; the colons of an IPv6 host are inside brackets.
  const std::string_view target = rest.substr(at + 1);
  std::string_view after_host = target;
  if (!target.empty() && target.front() == '[') {
    const auto close = target.find(']');
    if (close == std::string_view::npos) return bad(text, "missing ']' after the IPv6 host");
    after_host = target.substr(close + 1);
  }
  const auto colons = std::count(after_host.begin(), after_host.end(), ':');
  if (colons < 2) return bad(text, "expected HOST:PORT:COUNT after '@'");
  if (colons > 2) {
    return bad(text,
               "expected HOST:PORT:COUNT after '@': too many ':' (write an IPv6 host in brackets, "
               "[addr]:PORT:COUNT)");
  }
  const auto last = target.rfind(':');
  const std::string_view host_port = target.substr(0, last);
  const std::string_view count_text = target.substr(last + 1);

  auto address = parse_connect_address(host_port);
  if (!address) {
    std::string why = address.error();
    const std::string prefix = "invalid address \"" + std::string(host_port) + "\": ";
    if (why.starts_with(prefix)) why.erase(0, prefix.size());
    return bad(text, why);
  }
  int count = 0;
  const auto [end, ec] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (count_text.empty() || ec != std::errc{} || end != count_text.data() + count_text.size() ||
      count < 1 || count > kMaxEdgeAddressCount) {
    return bad(text, "COUNT must be a number from 1 to " + std::to_string(kMaxEdgeAddressCount) +
                         ", got \"" + std::string(count_text) + "\"");
  }
  out.host = std::move(address->host);
  out.port = address->port;
  out.count = count;
  return out;
}

}  // namespace

tl::expected<EdgeAddress, std::string> parse_edge_address(std::string_view text) {
  if (istarts_with(text, kScheme)) {
    return parse_rc(text);
  }
  if (text.find("://") != std::string_view::npos) {
    return tl::unexpected("invalid address \"" + std::string(text) + "\": expected host:port or " +
                          std::string(kForm));
  }
  auto address = parse_connect_address(text);
  if (!address) return tl::unexpected(address.error());
  EdgeAddress out;
  out.host = std::move(address->host);
  out.port = address->port;
  return out;
}

}  // namespace dialback
