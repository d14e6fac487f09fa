// ExternalAuthClient: asks a tunnel's `auth.external` endpoint about a
// credential (docs/configuration.md, "External credential check"): `GET
// url` with the agent's Authorization and identity headers; 200 allows,
// 401 and 403 refuse, anything else — another status, no connection, the
// timeout — is `unavailable` (the edge answers 503, never allows). 200, 401
// and 403 are cached for `cache` under a hash of the query (never the raw
// credential), at most ExternalAuthCache::kDefaultCapacity entries.
//
// One connection per question (Connection: close), plain http only. Only
// the response head is read (at most 8 KiB); the body is ignored. The
// timeout covers resolving, connecting, writing and reading. Concurrent
// questions with the same key each reach the endpoint (no coalescing): at
// most one per registration attempt, which the failure budget bounds.
// All calls on the listener's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "auth/external_auth_cache.hpp"
#include "config/edge_config.hpp"
#include "core/asio.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"

namespace dialback::edge {

struct ExternalAuthAnswer {
  ExternalVerdict verdict = ExternalVerdict::unavailable;
  // For the log: "200", "401 (cached)", "timed out after 2000ms",
  // "answered 500", "connect: Connection refused", ... Never a credential.
  std::string reason;
};

class ExternalAuthClient {
 public:
  ExternalAuthClient(asio::any_io_executor executor,
                     std::size_t cache_capacity = ExternalAuthCache::kDefaultCapacity);

  // The endpoint's verdict on `query`, from the cache when it holds one.
  // `limit` shortens config.timeout (the agent's registration deadline).
  // Never throws. `config` and `query` must outlive the call.
  Task<ExternalAuthAnswer> check(const ExternalAuthConfig& config, const ExternalAuthQuery& query,
                                 std::chrono::steady_clock::duration limit);

  // Requests sent to endpoints so far (cache hits not counted).
  std::uint64_t requests() const { return requests_; }

 private:
  Task<ExternalAuthAnswer> ask(const ExternalAuthConfig& config, const ExternalAuthQuery& query,
                               std::chrono::steady_clock::duration timeout);

  asio::any_io_executor executor_;
  ExternalAuthCache cache_;
  std::uint64_t requests_ = 0;
  // Name lookups, each ending on its own (a check may stop waiting first).
  TaskGroup lookups_;
};

}  // namespace dialback::edge
