// The answers of an external credential check (`tunnels.<name>.auth.external`,
// docs/configuration.md) and the bounded cache of them. Pure logic: the edge
// does the HTTP (edge/external_auth_client.hpp) and passes the clock in.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dialback {

// What the external endpoint said: 200, 401, 403, or anything else (another
// status, no connection, a timeout, a malformed answer).
enum class ExternalVerdict { allowed, unauthorized, forbidden, unavailable };

std::string_view to_string(ExternalVerdict verdict) noexcept;

// One question to the endpoint: the URL, the agent's raw Authorization value
// (empty: none) and the identity headers, as sent.
struct ExternalAuthQuery {
  std::string url;
  std::string authorization;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value; in send order
};

// "sha256:<hex>" over every field of `query` (each length-prefixed, so that
// no two queries share a key): the cache key, which holds no credential.
std::string external_auth_cache_key(const ExternalAuthQuery& query);

// Verdicts by cache key until their expiry. At most `capacity` entries:
// storing into a full cache first drops every expired entry, then the one
// that expires soonest, so a flood of distinct credentials cannot grow it.
class ExternalAuthCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultCapacity = 10'000;

  explicit ExternalAuthCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // The verdict stored for `key`, unless it has expired by `now`.
  std::optional<ExternalVerdict> find(const std::string& key, Clock::time_point now) const;
  // Stores (or replaces) `verdict` until `expires`; nothing when capacity is 0
  // or `expires` is not after `now`.
  void store(const std::string& key, ExternalVerdict verdict, Clock::time_point expires,
             Clock::time_point now);

  std::size_t size() const { return entries_.size(); }

 private:
  using ExpiryIndex = std::multimap<Clock::time_point, std::string>;
  struct Entry {
    ExternalVerdict verdict;
    ExpiryIndex::iterator expiry;
  };
  void erase(ExpiryIndex::iterator expiry);

  std::size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  ExpiryIndex by_expiry_;
};

}  // namespace dialback
