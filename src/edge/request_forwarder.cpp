#include "edge/request_forwarder.hpp"

#include <openssl/rand.h>

#include "core/ip_network.hpp"
#include "edge/allocations.hpp"
#include "edge/health_reporting_stream.hpp"
#include "http1/header_translation.hpp"

namespace dialback::edge {

RequestForwarder::RequestForwarder(const EdgeConfig& config, const TunnelTable& tunnels,
                                   SessionRegistry& registry, EdgeCounters& counters,
                                   Logger access_log)
    : config_(config),
      tunnels_(tunnels),
      registry_(registry),
      counters_(counters),
      access_log_(std::move(access_log)),
      requests_per_ip_(config.public_.limits.requests_per_ip) {}

std::string RequestForwarder::next_request_id() {
  // 128 random bits: unique without a counter, and they tell nobody how many
  // requests the edge serves.
  unsigned char random[16];
  RAND_bytes(random, sizeof random);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(2 * sizeof random, '0');
  for (std::size_t i = 0; i < sizeof random; ++i) {
    id[2 * i] = kHex[random[i] >> 4];
    id[2 * i + 1] = kHex[random[i] & 15];
  }
  return id;
}

PublicPeer RequestForwarder::peer(std::string ip) const {
  PublicPeer peer;
  error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  peer.source = ec ? ip : source_key(address);
  peer.trusted = !ec && in_any(config_.public_.trusted_proxies, address);
  peer.ip = std::move(ip);
  return peer;
}

std::string RequestForwarder::add_forwarding(RequestHead& head, const PublicPeer& peer,
                                             std::string scheme, std::string edge_request_id) {
  return http1::add_forwarding_headers(
      head, {peer.ip, std::move(scheme), std::move(edge_request_id), &traceparents_, peer.trusted,
             peer.trusted && config_.public_.route_by_forwarded_host});
}

std::optional<ForwardRefusal> RequestForwarder::rate_limit(const PublicPeer& peer) {
  if (!requests_per_ip_.enabled()) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  if (requests_per_ip_.take(peer.source, now)) return std::nullopt;
  ++counters_.requests_rate_limited;
  return ForwardRefusal{http::status::too_many_requests,
                        "dialback edge: too many requests from this address",
                        requests_per_ip_.retry_after(peer.source, now),
                        "rate-limited: public.limits.requests_per_ip"};
}

Task<tl::expected<OpenedStream, ForwardRefusal>> RequestForwarder::open(RequestHead& head,
                                                                        bool end_stream,
                                                                        const PublicPeer& peer) {
  if (auto refused = rate_limit(peer)) co_return tl::unexpected(std::move(*refused));
  if (peer.pinned) {
    co_return co_await open_routed(peer.pinned->tunnel, head, end_stream, peer, peer.pinned->node);
  }
  const auto tunnel = tunnels_.route(head.authority);
  if (!tunnel && allocations_ != nullptr) {
    if (auto leased = allocations_->route(head.authority)) {
      co_return co_await open_routed(leased->tunnel, head, end_stream, peer, leased->node);
    }
  }
  if (!tunnel) {
    ++counters_.requests_no_route;
    std::string page = "dialback edge: no tunnel serves this host";
    if (config_.public_.verbose_errors) page += " ('" + head.authority + "')";
    co_return tl::unexpected(
        ForwardRefusal{http::status::not_found, std::move(page), std::nullopt, "no-route"});
  }
  co_return co_await open_routed(*tunnel, head, end_stream, peer, {});
}

Task<tl::expected<OpenedStream, ForwardRefusal>> RequestForwarder::open_in(std::size_t tunnel,
                                                                           RequestHead& head,
                                                                           bool end_stream,
                                                                           const PublicPeer& peer,
                                                                           std::string node) {
  if (auto refused = rate_limit(peer)) co_return tl::unexpected(std::move(*refused));
  co_return co_await open_routed(tunnel, head, end_stream, peer, std::move(node));
}

Task<tl::expected<OpenedStream, ForwardRefusal>> RequestForwarder::open_routed(
    std::size_t tunnel, RequestHead& head, bool end_stream, const PublicPeer& peer,
    std::string leased_to) {
  const TunnelEntry& entry = tunnels_[tunnel];
  const std::string& tunnel_name = entry.name;
  std::string node;
  std::string cluster;
  SessionFilter filter;
  if (entry.identity_routing) {
    take_identity_headers(head, *entry.identity_routing, node, cluster);
    // The node header wins: it pins one node, never another.
    if (!node.empty()) {
      filter.node = node;
    } else {
      filter.cluster = cluster;
    }
  }
  // A port or host leased to one agent reaches that agent only, whatever
  // the request says; its traffic keeps the lease from counting as idle.
  if (!leased_to.empty()) {
    node = std::move(leased_to);
    filter = SessionFilter{node, {}, /*leased=*/true};
    if (allocations_ != nullptr) allocations_->touch(tunnel, node);
  }
  const std::string key =
      entry.balance == BalancePolicy::hash ? hash_key_of(head, entry.hash_key, peer) : "";
  PickedSession picked = registry_.pick(tunnel_name, filter, key);
  Result<std::unique_ptr<TunnelStream>> opened = fail(Error::no_session);
  if (picked) opened = co_await picked.session->open_stream(head, end_stream);
  if (!opened && picked) {  // the session just began draining or failed: try another once
    picked.health->stream_failed(opened.error());
    picked = registry_.pick(tunnel_name, filter, key);
    if (picked) opened = co_await picked.session->open_stream(head, end_stream);
    if (!opened && picked) picked.health->stream_failed(opened.error());
  }
  if (!opened) {
    ++counters_.requests_no_session;
    const std::string pinned = !filter.node.empty()      ? " node=" + node
                               : !filter.cluster.empty() ? " cluster=" + cluster
                                                         : "";
    std::string page = "dialback edge: no agent is connected for this host";
    if (!pinned.empty()) page = "dialback edge: no agent of the requested node or cluster";
    if (config_.public_.verbose_errors) page += " (tunnel '" + tunnel_name + "'" + pinned + ")";
    co_return tl::unexpected(ForwardRefusal{http::status::service_unavailable, std::move(page), 5,
                                            "tunnel=" + tunnel_name + pinned + " no-session"});
  }
  // Only for the access log: not built when it is off (every request pays it).
  std::string via;
  if (access_log_->should_log(spdlog::level::info)) {
    via = "tunnel=" + tunnel_name + " session=" + picked.session->identity().session_id;
  }
  co_return OpenedStream{
      std::make_unique<HealthReportingStream>(std::move(*opened), std::move(picked.health)),
      std::move(via)};
}

std::string RequestForwarder::hash_key_of(const RequestHead& head, const HashKey& key,
                                          const PublicPeer& peer) {
  switch (key.source) {
    case HashKey::Source::client_ip: return peer.ip;
    case HashKey::Source::header:
      for (const auto& field : head.headers) {
        if (field.name == key.name) return field.value;
      }
      return {};
    case HashKey::Source::cookie:
      for (const auto& field : head.headers) {
        if (field.name != "cookie") continue;
        std::string_view rest = field.value;
        while (!rest.empty()) {
          const std::size_t end = std::min(rest.find(';'), rest.size());
          std::string_view pair = rest.substr(0, end);
          rest.remove_prefix(std::min(end + 1, rest.size()));
          while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
          const std::size_t eq = pair.find('=');
          if (eq != std::string_view::npos && pair.substr(0, eq) == key.name) {
            return std::string(pair.substr(eq + 1));
          }
        }
      }
      return {};
  }
  return {};
}

void RequestForwarder::take_identity_headers(RequestHead& head,
                                             const IdentityRoutingConfig& routing,
                                             std::string& node, std::string& cluster) {
  std::erase_if(head.headers, [&](const HeaderField& field) {
    std::string* target = field.name == routing.node_header      ? &node
                          : field.name == routing.cluster_header ? &cluster
                                                                 : nullptr;
    if (target == nullptr) return false;
    if (target->empty()) *target = field.value;  // the first one counts
    return routing.strip;
  });
}

std::optional<std::uint64_t> RequestForwarder::sample_client_log(const PublicPeer& peer) {
  return client_log_.admit(peer.source, std::chrono::steady_clock::now());
}

void RequestForwarder::log(const AccessEntry& entry, int status, std::uint64_t bytes,
                           std::string_view outcome) {
  const auto elapsed = std::chrono::steady_clock::now() - entry.started;
  const double ms =
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 1000.0;
  access_log_->info("{} {} \"{} {}{}\" {} {}B {:.1f}ms {}", entry.request_id, entry.client_ip,
                    entry.method, entry.authority, entry.path, status, bytes, ms, outcome);
}

void RequestForwarder::log_rejected(const std::string& request_id, const std::string& client_ip,
                                    int status, std::string_view reason) {
  access_log_->info("{} {} \"-\" {} 0B rejected: {}", request_id, client_ip, status, reason);
}

}  // namespace dialback::edge
