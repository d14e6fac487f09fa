#include "auth/external_auth_cache.hpp"

#include <openssl/crypto.h>

#include "auth/token.hpp"

namespace dialback {
namespace {

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string_view to_string(ExternalVerdict verdict) noexcept {
  switch (verdict) {
    case ExternalVerdict::allowed: return "allowed";
    case ExternalVerdict::unauthorized: return "unauthorized";
    case ExternalVerdict::forbidden: return "forbidden";
    case ExternalVerdict::unavailable: return "unavailable";
  }
  return "unknown";
}

std::string external_auth_cache_key(const ExternalAuthQuery& query) {
  std::string text;
  append_field(text, query.url);
  append_field(text, query.authorization);
  for (const auto& [name, value] : query.headers) {
    append_field(text, name);
    append_field(text, value);
  }
  std::string key = hash_token(text);
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

std::optional<ExternalVerdict> ExternalAuthCache::find(const std::string& key,
                                                       Clock::time_point now) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expiry->first <= now) return std::nullopt;
  return it->second.verdict;
}

void ExternalAuthCache::store(const std::string& key, ExternalVerdict verdict,
                              Clock::time_point expires, Clock::time_point now) {
  if (capacity_ == 0 || expires <= now || key.empty()) return;
  if (const auto it = entries_.find(key); it != entries_.end()) erase(it->second.expiry);
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) erase(by_expiry_.begin());
  while (entries_.size() >= capacity_) erase(by_expiry_.begin());
  const auto expiry = by_expiry_.emplace(expires, key);
  entries_.emplace(key, Entry{verdict, expiry});
}

void ExternalAuthCache::erase(ExpiryIndex::iterator expiry) {
  entries_.erase(expiry->second);
  by_expiry_.erase(expiry);
}

}  // namespace dialback
