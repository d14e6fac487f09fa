#include "auth/basic_credential_set.hpp"

#include <openssl/crypto.h>

#include "auth/token.hpp"
#include "auth/token_set.hpp"

namespace dialback {

tl::expected<BasicCredentialSet, std::string> BasicCredentialSet::from_entries(
    const std::vector<BasicCredential>& entries) {
  BasicCredentialSet set;
  set.entries_.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "basic[" + std::to_string(i) + "]: ";
    if (entries[i].user.empty()) return tl::unexpected(where + "empty user name");
    // The password follows TokenSet's rules (plain or "sha256:<hex>").
    auto password_hash = TokenSet::stored_hash(entries[i].password);
    if (!password_hash) return tl::unexpected(where + "password: " + password_hash.error());
    std::string user_hash = hash_token(entries[i].user);
    if (user_hash.empty()) return tl::unexpected(where + "cannot hash (OpenSSL failure)");
    set.entries_.push_back(Entry{std::move(user_hash), std::move(*password_hash)});
  }
  return set;
}

bool BasicCredentialSet::matches(std::string_view user, std::string_view password) const {
  if (user.empty() || password.empty()) return false;
  std::string user_hash = hash_token(user);
  std::string password_hash = hash_token(password);
  bool found = false;
  if (!user_hash.empty() && !password_hash.empty()) {
    for (const Entry& entry : entries_) {
      // No early exit and no short-circuit: both comparisons for every entry.
      const bool user_equal = constant_time_equal(user_hash, entry.user_hash);
      const bool password_equal = constant_time_equal(password_hash, entry.password_hash);
      found |= user_equal & password_equal;
    }
  }
  OPENSSL_cleanse(user_hash.data(), user_hash.size());
  OPENSSL_cleanse(password_hash.data(), password_hash.size());
  return found;
}

}  // namespace dialback
