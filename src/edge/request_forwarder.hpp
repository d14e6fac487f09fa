// RequestForwarder: what the public HTTP/1.1 and HTTP/2 front ends share for
// every request — request ids and trace context, routing by host, picking a
// session and opening the tunnel stream (the Router and Bridge entry of
// ARCHITECTURE.md), and the access log line. The front ends own the
// protocol: framing, error pages, body pumping.
//
// One per public server, on its executor; the front ends hold a reference.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "config/edge_config.hpp"
#include "core/asio.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/log_sampler.hpp"
#include "core/logging.hpp"
#include "edge/edge_counters.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "http1/trace_context.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::edge {

class Allocations;

// A tunnel stream opened for a request; `via` names tunnel and session for logs.
struct OpenedStream {
  std::unique_ptr<TunnelStream> stream;
  std::string via;
};

// Why a request could not be handed to a tunnel: the edge answers it itself.
struct ForwardRefusal {
  http::status status = http::status::not_found;
  std::string message;            // the error page's text
  std::optional<int> retry_after;  // seconds, for 503
  std::string via;                 // for the access log
};

// A public HTTP port that belongs to one agent (a DevTunnel user's port):
// every request on it goes to `node`'s sessions of tunnel number `tunnel`,
// whatever its Host says.
struct PinnedRoute {
  std::size_t tunnel = 0;
  std::string node;
};

// A public client as its connection sees it, worked out once per connection.
struct PublicPeer {
  std::string ip;        // the address as text: logs, forwarding headers
  std::string source;    // its rate-limit key (source_key: IPv6 by /64)
  bool trusted = false;  // in public.trusted_proxies
  std::optional<PinnedRoute> pinned;  // it came in on a pinned port
};

// One request as the access log sees it.
struct AccessEntry {
  std::string request_id;
  std::string client_ip;
  std::string method;
  std::string authority;
  std::string path;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class RequestForwarder {
 public:
  RequestForwarder(const EdgeConfig& config, const TunnelTable& tunnels, SessionRegistry& registry,
                   EdgeCounters& counters, Logger access_log);

  const EdgeConfig& config() const { return config_; }
  EdgeCounters& counters() { return counters_; }

  // The connection-level view of a client at `ip`.
  PublicPeer peer(std::string ip) const;

  // A fresh edge request id: 32 hex digits, 128 random bits.
  std::string next_request_id();

  // Adds the forwarding headers and trace context to `head` (end-to-end
  // headers only, authority set) and returns the request id in effect: the
  // client's valid X-Request-Id, else `edge_request_id`.
  std::string add_forwarding(RequestHead& head, const PublicPeer& peer, std::string scheme,
                             std::string edge_request_id);

  // Routes `head` by authority (or by `peer.pinned`) and opens a stream on a session of its
  // tunnel (a second session is tried once when the first just began
  // draining). Refused with 429 first when `peer` is over
  // public.limits.requests_per_ip. With the tunnel's identity_routing, a
  // node header pins that node (503 when it has no session) and a cluster
  // header limits the choice to that cluster; with `strip` they are removed
  // from `head`. `head` and `peer` must live until the task completes.
  Task<tl::expected<OpenedStream, ForwardRefusal>> open(RequestHead& head, bool end_stream,
                                                        const PublicPeer& peer);

  // The same for a tunnel already known (a raw TCP connection arrived on
  // one of its ports): rate limit, pick a session, open the stream. With
  // `node` (a port leased to one agent) only that node's sessions serve it.
  Task<tl::expected<OpenedStream, ForwardRefusal>> open_in(std::size_t tunnel, RequestHead& head,
                                                           bool end_stream, const PublicPeer& peer,
                                                           std::string node = {});
  // The host names leased on demand, routed after the configured ones;
  // their traffic keeps their lease from counting as idle.
  void set_allocations(Allocations* allocations) { allocations_ = allocations; }
  const TunnelTable& tunnels() const { return tunnels_; }

  // Whether a line about a public client's connection (not a request) may
  // be written now: at most one per client address per 10 s. Returns how
  // many were left out before it, or nullopt to leave this one out.
  std::optional<std::uint64_t> sample_client_log(const PublicPeer& peer);

  // One access log line: `outcome` names how it went (tunnel, session, error).
  void log(const AccessEntry& entry, int status, std::uint64_t bytes, std::string_view outcome);
  // The access line of a request refused before it had a head worth routing.
  void log_rejected(const std::string& request_id, const std::string& client_ip, int status,
                    std::string_view reason);

 private:
  // The 429 refusal when `peer` is over public.limits.requests_per_ip.
  std::optional<ForwardRefusal> rate_limit(const PublicPeer& peer);
  // open() and open_in() after routing: identity headers, the pick, the stream.
  Task<tl::expected<OpenedStream, ForwardRefusal>> open_routed(std::size_t tunnel,
                                                               RequestHead& head, bool end_stream,
                                                               const PublicPeer& peer,
                                                               std::string node);
  // The value `balance: hash` hashes; empty when the request has none.
  static std::string hash_key_of(const RequestHead& head, const HashKey& key,
                                 const PublicPeer& peer);
  // Reads (and with `strip` removes) the identity routing headers.
  static void take_identity_headers(RequestHead& head, const IdentityRoutingConfig& routing,
                                    std::string& node, std::string& cluster);
  const EdgeConfig& config_;
  const TunnelTable& tunnels_;
  SessionRegistry& registry_;
  EdgeCounters& counters_;
  Logger access_log_;
  http1::TraceparentGenerator traceparents_{std::random_device{}()};
  KeyedRateLimiter requests_per_ip_;
  LogSampler client_log_{std::chrono::seconds(10)};
  Allocations* allocations_ = nullptr;  // not owned; null: no allocate sections
};

}  // namespace dialback::edge
