// The set of tokens accepted for one tunnel (or one edge listener).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace dialback {

class TokenSet {
 public:
  // An empty set: matches nothing.
  TokenSet() = default;

  // Builds a set from config entries. Each entry is either a hash
  // ("sha256:<64 hex>", prefix and hex case-insensitive) or a plain token.
  // Fails with a human-readable message naming the entry as "tokens[i]" (never
  // echoing the secret) when an entry is empty, has surrounding whitespace, or
  // starts with "sha256:" without exactly 64 hex digits after it.
  static tl::expected<TokenSet, std::string> from_entries(const std::vector<std::string>& entries);

  // How one config entry is stored: "sha256:<64 lower-case hex>" (a hash
  // normalised, a plain token hashed). Fails with the reason (without the
  // entry) under the rules of from_entries.
  static tl::expected<std::string, std::string> stored_hash(std::string_view entry);

  // True when `presented` equals one of the plain tokens or hashes to one of
  // the hashed entries. Every entry is compared, in constant time, whatever
  // matches: the time taken reveals neither which entry matched nor how much
  // of a token was right. An empty `presented` never matches.
  bool matches(std::string_view presented) const;

  bool empty() const { return hashes_.empty(); }
  std::size_t size() const { return hashes_.size(); }

 private:
  // Every entry, plain ones included, is kept as "sha256:<64 lower-case hex>"
  // so that all comparisons have the same length.
  std::vector<std::string> hashes_;
};

}  // namespace dialback
