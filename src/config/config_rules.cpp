#include "config/config_rules.hpp"

#include <unistd.h>

#include <array>

namespace dialback {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_dns_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string hostname_identity(std::size_t max_size) {
  std::array<char, 256> buffer{};
  std::string name;
  if (::gethostname(buffer.data(), buffer.size() - 1) == 0) name = buffer.data();
  for (char& c : name) {
    if (!is_identity_char(c)) c = '-';
  }
  if (name.empty()) name = "localhost";
  if (name.size() > max_size) name.resize(max_size);
  return name;
}

}  // namespace

bool is_valid_host_pattern(std::string_view value) noexcept {
  if (value.starts_with("*.")) value.remove_prefix(2);
  return is_dns_name(value);
}

std::optional<std::string> check_token_spec(std::string_view value) {
  if (value.starts_with(kSha256Prefix)) {
    const auto hex = value.substr(kSha256Prefix.size());
    if (hex.size() != 64) return "a sha256: token hash needs exactly 64 hex digits";
    for (char c : hex) {
      if (!is_hex(c)) return "a sha256: token hash needs exactly 64 hex digits";
    }
    return std::nullopt;
  }
  if (value.empty()) return "empty token";
  if (!is_printable_token(value)) return "a token must be printable ASCII without spaces";
  return std::nullopt;
}

bool is_printable_token(std::string_view value) noexcept {
  if (value.empty()) return false;
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool is_header_name(std::string_view value) noexcept {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  if (value.empty()) return false;
  for (char c : value) {
    const bool lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!lower_alnum && kSymbols.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string default_edge_id() { return hostname_identity(kMaxIdentityLength); }

std::string default_agent_node() {
  const std::string pid = "-" + std::to_string(::getpid());
  return hostname_identity(kMaxIdentityLength - pid.size()) + pid;
}

}  // namespace dialback
