#include "routing/host_router.hpp"

#include <algorithm>
#include <cctype>

#include "core/ascii.hpp"
#include "core/error.hpp"

namespace dialback {
namespace {

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxName = 253;

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// An IPv6 literal without brackets (also allows an embedded IPv4 tail).
bool is_ipv6_literal(std::string_view s) {
  if (std::count(s.begin(), s.end(), ':') < 2) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isxdigit(c) != 0 || c == ':' || c == '.';
  });
}

// Lower-case DNS name (or IPv4 literal): non-empty labels of [a-z0-9_-].
bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  std::size_t label = 0;
  for (unsigned char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (std::isalnum(c) == 0 && c != '-' && c != '_') return false;
    if (++label > kMaxLabel) return false;
  }
  return label != 0;
}

std::string_view strip_trailing_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// Host part of a Host header / :authority value, lower case, without port,
// brackets or trailing dot. nullopt when malformed.
std::optional<std::string> normalize_host(std::string_view raw) {
  std::string lowered = to_lower_ascii(raw);
  std::string_view host = lowered;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !all_digits(rest.substr(1)))) return std::nullopt;
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    const auto colon = host.find(':');
    if (!all_digits(host.substr(colon + 1))) return std::nullopt;
    host = host.substr(0, colon);
  }
  host = strip_trailing_dot(host);
  if (host.empty() || host.front() == '.') return std::nullopt;
  return std::string(host);
}

}  // namespace

Result<void> HostRouter::add(std::string_view pattern, std::size_t tunnel) {
  const std::string lowered = to_lower_ascii(pattern);
  std::string_view name = strip_trailing_dot(lowered);
  Table* table = &exact_;

  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
    if (!is_ipv6_literal(name)) return fail(Error::config_invalid);
  } else if (name.find(':') != std::string_view::npos) {
    if (!is_ipv6_literal(name)) return fail(Error::config_invalid);
  } else {
    if (name.starts_with("*.")) {
      name.remove_prefix(2);
      table = &wildcards_;
    }
    if (!is_dns_name(name)) return fail(Error::config_invalid);
  }

  if (!table->emplace(std::string(name), tunnel).second) return fail(Error::config_invalid);
  return {};
}

std::optional<std::size_t> HostRouter::match(std::string_view raw) const {
  const auto host = normalize_host(raw);
  if (!host) return std::nullopt;
  if (const auto it = exact_.find(*host); it != exact_.end()) return it->second;
  if (wildcards_.empty()) return std::nullopt;

  // Walk label suffixes from the longest; the first hit is the longest match.
  const std::string_view name = *host;
  for (auto dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    if (const auto it = wildcards_.find(name.substr(dot + 1)); it != wildcards_.end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

}  // namespace dialback
