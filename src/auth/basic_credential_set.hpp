// The user name and password pairs accepted for one tunnel (HTTP Basic).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "auth/authorization_header.hpp"

namespace dialback {

class BasicCredentialSet {
 public:
  // An empty set: matches nothing.
  BasicCredentialSet() = default;

  // Builds a set from config entries: a user name and a password, the
  // password plain or hashed ("sha256:<64 hex>", prefix and hex
  // case-insensitive, as TokenSet). Fails with a message naming the entry as
  // "basic[i]" (never echoing a secret) when a user name or password is empty
  // or a hash is malformed.
  static tl::expected<BasicCredentialSet, std::string> from_entries(
      const std::vector<BasicCredential>& entries);

  // True when some entry has both this user name and this password. Both
  // parts are compared by their SHA-256, in constant time, against every
  // entry whatever matches: the time taken reveals neither which entry
  // matched nor whether the user name was right. Empty parts never match.
  bool matches(std::string_view user, std::string_view password) const;

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string user_hash;      // "sha256:<64 lower-case hex>"
    std::string password_hash;  // same form
  };
  std::vector<Entry> entries_;
};

}  // namespace dialback
