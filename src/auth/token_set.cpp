#include "auth/token_set.hpp"

#include <cctype>

#include <openssl/crypto.h>

#include "auth/token.hpp"
#include "core/ascii.hpp"

namespace dialback {
namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::size_t kHexDigits = 64;

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The normalised "sha256:<lower hex>" form of a hashed entry; empty if malformed.
std::string normalise_hash(std::string_view entry) {
  const std::string_view hex = entry.substr(kHashPrefix.size());
  if (hex.size() != kHexDigits) return {};
  std::string out(kHashPrefix);
  for (char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return {};
    out.push_back(ascii_lower(c));
  }
  return out;
}

}  // namespace

tl::expected<std::string, std::string> TokenSet::stored_hash(std::string_view entry) {
  if (entry.empty()) return tl::unexpected(std::string("empty token"));
  if (is_space(entry.front()) || is_space(entry.back())) {
    return tl::unexpected(std::string("token has leading or trailing whitespace"));
  }
  if (istarts_with(entry, kHashPrefix)) {
    std::string hash = normalise_hash(entry);
    if (hash.empty()) {
      return tl::unexpected(std::string("\"sha256:\" must be followed by exactly 64 hex digits"));
    }
    return hash;
  }
  std::string hash = hash_token(entry);
  if (hash.empty()) return tl::unexpected(std::string("cannot hash token (OpenSSL failure)"));
  return hash;
}

tl::expected<TokenSet, std::string> TokenSet::from_entries(
    const std::vector<std::string>& entries) {
  TokenSet set;
  set.hashes_.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto hash = stored_hash(entries[i]);
    if (!hash) return tl::unexpected("tokens[" + std::to_string(i) + "]: " + hash.error());
    set.hashes_.push_back(std::move(*hash));
  }
  return set;
}

bool TokenSet::matches(std::string_view presented) const {
  if (presented.empty()) return false;
  std::string presented_hash = hash_token(presented);
  if (presented_hash.empty()) return false;
  bool found = false;
  for (const std::string& hash : hashes_) {
    // No early exit: every entry costs the same whether or not one matched.
    found |= constant_time_equal(presented_hash, hash);
  }
  OPENSSL_cleanse(presented_hash.data(), presented_hash.size());
  return found;
}

}  // namespace dialback
