#include "edge/allocations.hpp"

#include <openssl/rand.h>

#include "core/ascii.hpp"
#include "tunnel/raw_tcp_head.hpp"

namespace dialback::edge {
namespace {

std::uint64_t random_seed() {
  std::uint64_t seed = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  return seed;
}

// "300ms", "30s": idle_after as an operator wrote it, more or less.
std::string duration_text(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 != 0) return std::to_string(duration.count()) + "ms";
  return std::to_string(duration.count() / 1000) + "s";
}

AllocationPolicy policy_of(const AllocateConfig& config) {
  AllocationPolicy policy;
  policy.first_port = config.first_port;
  policy.last_port = config.last_port;
  if (!config.hosts.empty()) policy.host_suffix = config.hosts.substr(1);  // "*.x" -> ".x"
  policy.lease = config.lease;
  policy.evict_idle = config.evict_idle;
  policy.idle_after = config.idle_after;
  return policy;
}

}  // namespace

Allocations::Allocations(asio::any_io_executor executor, const EdgeConfig& config,
                         const TunnelTable& tunnels, PublicTcpServer& tcp,
                         SessionRegistry& registry, Logger logger)
    : executor_(executor),
      config_(config),
      tunnels_(tunnels),
      tcp_(tcp),
      registry_(registry),
      logger_(std::move(logger)),
      wake_(executor),
      closing_(executor, logger_, "allocated ports") {
  for (const TunnelConfig& tunnel : config.tunnels) {
    if (!tunnel.allocate) continue;
    const std::size_t index = *tunnels.find(tunnel.name);
    leases_.emplace(index, TunnelLeases{AllocationTable(policy_of(*tunnel.allocate), random_seed()),
                                        &*tunnel.allocate,
                                        tunnel.tcp_idle_timeout,
                                        {}});
  }
}

tl::expected<std::string, RegistrationRejection> Allocations::acquire(
    std::size_t tunnel, const std::string& node, const AllocationRequest& request) {
  const std::string& name = tunnels_[tunnel].name;
  const auto found = leases_.find(tunnel);
  if (found == leases_.end() || stopped_) {
    return tl::unexpected(RegistrationRejection::bad_request(
        "tunnel " + name + " does not allocate ports or host names"));
  }
  TunnelLeases& leases = found->second;
  const auto now = Clock::now();
  auto granted = leases.table.acquire(node, request, now);
  if (!granted) {
    const AllocationRefusal& refusal = granted.error();
    std::string message = "tunnel " + name + ": " + refusal.message;
    if (const auto evicted = evicted_.find({tunnel, node}); evicted != evicted_.end()) {
      message += " (this agent's lease was given to another agent after it had been idle for " +
                 duration_text(leases.config->idle_after) + ")";
    }
    if (refusal.status == 400) return tl::unexpected(RegistrationRejection::bad_request(message));
    return tl::unexpected(RegistrationRejection{429, "allocation_full", std::move(message), 5});
  }
  evicted_.erase({tunnel, node});
  for (const std::string& victim : granted->evicted_nodes) {
    evict(tunnel, victim);
    // The port it held, when it is the one just granted, changes hands in
    // place: closing and binding it again could not happen in one step.
    const auto held = leases.bound.find(victim);
    if (held == leases.bound.end()) continue;
    if (held->second.port() == granted->port && !leases.bound.contains(node)) {
      tcp_.repin_port(held->second, node);
      leases.bound[node] = held->second;
      leases.bound.erase(victim);
    } else {
      unbind_port(leases, victim);
    }
  }
  std::string routes;
  if (granted->port != 0) {
    std::string error;
    if (!bind_port(tunnel, leases, node, granted->port, error)) {
      leases.table.release(node);
      return tl::unexpected(RegistrationRejection{503, "allocation_unavailable",
                                                  "tunnel " + name + ": port " +
                                                      std::to_string(granted->port) +
                                                      " cannot be bound: " + error,
                                                  5});
    }
    routes = "tcp://" + endpoint_text(leases.bound.at(node));
  } else {
    unbind_port(leases, node);
  }
  if (!granted->host.empty()) routes += (routes.empty() ? "" : ", ") + host_url(granted->host);
  wake_.cancel();  // a new countdown may end first
  return routes;
}

bool Allocations::bind_port(std::size_t tunnel, TunnelLeases& leases, const std::string& node,
                            std::uint16_t port, std::string& error) {
  const auto held = leases.bound.find(node);
  if (held != leases.bound.end() && held->second.port() == port) return true;
  unbind_port(leases, node);
  error_code ec;
  const auto address = asio::ip::make_address(leases.config->bind, ec);
  if (ec) {
    error = ec.message();
    return false;
  }
  auto bound = tcp_.open_port(tunnel, tcp::endpoint(address, port), leases.tcp_idle_timeout, node);
  if (!bound) {
    error = bound.error().message();
    return false;
  }
  leases.bound[node] = *bound;
  logger_->info("tunnel {}: port {} leased to node {}", tunnels_[tunnel].name,
                endpoint_text(*bound), node);
  return true;
}

void Allocations::unbind_port(TunnelLeases& leases, const std::string& node) {
  const auto held = leases.bound.find(node);
  if (held == leases.bound.end()) return;
  closing_.spawn(tcp_.close_port(held->second));
  leases.bound.erase(held);
}

void Allocations::evict(std::size_t tunnel, const std::string& node) {
  const TunnelLeases& leases = leases_.at(tunnel);
  evicted_[{tunnel, node}] = Clock::now();
  std::size_t sessions = 0;
  for (TunnelSession* session : registry_.all()) {
    const auto& identity = session->identity();
    if (identity.tunnel == tunnels_[tunnel].name && identity.node == node) {
      session->go_away();
      ++sessions;
    }
  }
  logger_->warn(
      "tunnel {}: node {} evicted (no traffic for {}, its allocation was needed); {} "
      "session(s) told to go away",
      tunnels_[tunnel].name, node, duration_text(leases.config->idle_after), sessions);
}

std::string Allocations::host_url(const std::string& host) const {
  if (const auto& https = config_.public_.https) {
    const std::uint16_t port = https->listen.port;
    return "https://" + host + (port == 443 ? "" : ":" + std::to_string(port));
  }
  const std::uint16_t port = config_.public_.http ? config_.public_.http->port : 80;
  return "http://" + host + (port == 80 ? "" : ":" + std::to_string(port));
}

void Allocations::session_started(std::size_t tunnel, const std::string& node) {
  if (const auto it = leases_.find(tunnel); it != leases_.end())
    it->second.table.session_started(node);
}

void Allocations::session_ended(std::size_t tunnel, const std::string& node) {
  const auto it = leases_.find(tunnel);
  if (it == leases_.end()) return;
  it->second.table.session_ended(node, Clock::now());
  wake_.cancel();
}

void Allocations::touch(std::size_t tunnel, const std::string& node) {
  if (const auto it = leases_.find(tunnel); it != leases_.end()) {
    it->second.table.touch(node, Clock::now());
  }
}

std::optional<Allocations::Leased> Allocations::route(std::string_view authority) const {
  std::string host = to_lower_ascii(authority.substr(
      0, authority.rfind(':') == std::string_view::npos ? authority.size() : authority.rfind(':')));
  for (const auto& [tunnel, leases] : leases_) {
    if (auto owner = leases.table.host_owner(host)) return Leased{tunnel, std::move(*owner)};
  }
  return std::nullopt;
}

std::size_t Allocations::lease_count() const {
  std::size_t count = 0;
  for (const auto& [tunnel, leases] : leases_) count += leases.table.lease_count();
  return count;
}

Task<void> Allocations::expiry_loop() {
  while (!stopped_) {
    std::optional<Clock::time_point> next;
    for (const auto& [tunnel, leases] : leases_) {
      const auto expiry = leases.table.next_expiry();
      if (expiry && (!next || *expiry < *next)) next = expiry;
    }
    wake_.expires_at(next.value_or(Clock::time_point::max()));
    error_code ignored;
    co_await wake_.async_wait(nothrow(ignored));
    if (stopped_) break;
    const auto now = Clock::now();
    for (auto& [tunnel, leases] : leases_) {
      for (const auto& released : leases.table.expire(now)) {
        unbind_port(leases, released.node);
        logger_->info("tunnel {}: lease of node {} ended (port {}, host {})", tunnels_[tunnel].name,
                      released.node, released.port == 0 ? "-" : std::to_string(released.port),
                      released.host.empty() ? "-" : released.host);
      }
      std::erase_if(evicted_, [&](const auto& entry) {
        return entry.first.first == tunnel && now - entry.second > leases.config->lease;
      });
    }
  }
  co_await closing_.join();
}

void Allocations::stop() {
  stopped_ = true;
  wake_.cancel();
}

}  // namespace dialback::edge
