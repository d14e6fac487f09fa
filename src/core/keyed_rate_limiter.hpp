// KeyedRateLimiter: one TokenBucket per key (a client address), in a table
// of bounded size. Keys whose bucket is full again are forgotten when the
// table fills up; when it is full of busy keys a new key is not tracked
// (allowed), so the table cannot grow without bound under an address-spray
// attack: a global limit is what bounds that case.
//
// Pure (time passed in); single-threaded.
#pragma once

#include <string>
#include <unordered_map>

#include "core/token_bucket.hpp"

namespace dialback {

class KeyedRateLimiter {
 public:
  using Clock = TokenBucket::Clock;

  explicit KeyedRateLimiter(RateLimit limit, std::size_t max_keys = 65536)
      : limit_(limit), max_keys_(max_keys) {}

  bool enabled() const { return limit_.enabled(); }

  // Takes a token from `key`'s bucket; false when it has none left.
  bool take(const std::string& key, Clock::time_point now) {
    if (!limit_.enabled()) return true;
    TokenBucket* bucket = find_or_add(key, now);
    return bucket == nullptr || bucket->take(now);
  }

  // True when `key` has no token left now (nothing is taken).
  bool exhausted(const std::string& key, Clock::time_point now) {
    if (!limit_.enabled()) return false;
    auto it = buckets_.find(key);
    return it != buckets_.end() && it->second.seconds_to_next(now) > 0;
  }

  // Seconds until `key` has a token again (at least 1), for Retry-After.
  int retry_after(const std::string& key, Clock::time_point now) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) return 1;
    const int seconds = it->second.seconds_to_next(now);
    return seconds < 1 ? 1 : seconds;
  }

  std::size_t tracked() const { return buckets_.size(); }

 private:
  TokenBucket* find_or_add(const std::string& key, Clock::time_point now) {
    auto it = buckets_.find(key);
    if (it != buckets_.end()) return &it->second;
    if (buckets_.size() >= max_keys_) {
      std::erase_if(buckets_, [now](auto& entry) { return entry.second.full(now); });
      if (buckets_.size() >= max_keys_) return nullptr;
    }
    return &buckets_.emplace(key, TokenBucket(limit_, now)).first->second;
  }

  RateLimit limit_;
  std::size_t max_keys_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace dialback
