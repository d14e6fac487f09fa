#include "edge/allocation_table.hpp"

namespace dialback::edge {
namespace {

constexpr std::size_t kAutoLabelLength = 8;
constexpr int kAutoLabelTries = 16;

}  // namespace

AllocationTable::AllocationTable(AllocationPolicy policy, std::uint64_t seed)
    : policy_(std::move(policy)), random_(seed) {}

tl::expected<AllocationGrant, AllocationRefusal> AllocationTable::acquire(
    const std::string& node, const AllocationRequest& request, Clock::time_point now) {
  using Kind = AllocationRequest::Kind;
  const bool wants_port = request.port_kind != Kind::none;
  const bool wants_host = request.host_kind != Kind::none;
  if (wants_port && policy_.first_port == 0) {
    return tl::unexpected(AllocationRefusal{400, "this tunnel does not allocate ports"});
  }
  if (wants_host && policy_.host_suffix.empty()) {
    return tl::unexpected(AllocationRefusal{400, "this tunnel does not allocate host names"});
  }
  if (request.port_kind == Kind::preferred &&
      (request.port < policy_.first_port || request.port > policy_.last_port)) {
    return tl::unexpected(AllocationRefusal{
        400, "port " + std::to_string(request.port) + " is outside the tunnel's range " +
                 std::to_string(policy_.first_port) + "-" + std::to_string(policy_.last_port)});
  }

  AllocationGrant grant;
  std::optional<std::uint16_t> port;
  std::optional<std::string> host;
  if (wants_port) port = pick_port(request, node);
  if (wants_host) host = pick_host(request, node);
  // Full: make room by evicting one idle agent (which frees both its port
  // and its host), then pick again.
  if (policy_.evict_idle && ((wants_port && !port) || (wants_host && !host))) {
    const std::string victim = eviction_candidate(node, wants_port && !port, wants_host && !host, now);
    if (!victim.empty()) {
      remove(victim);
      grant.evicted_nodes.push_back(victim);
      if (wants_port && !port) port = pick_port(request, node);
      if (wants_host && !host) host = pick_host(request, node);
    }
  }
  if (wants_port && !port) {
    return tl::unexpected(AllocationRefusal{
        429, "no free port in " + std::to_string(policy_.first_port) + "-" +
                 std::to_string(policy_.last_port) +
                 (policy_.evict_idle ? " and no idle agent to evict" : "")});
  }
  if (wants_host && !host) {
    return tl::unexpected(AllocationRefusal{
        429, std::string("no free host name") +
                 (policy_.evict_idle ? " and no idle agent to evict" : "")});
  }

  Lease& lease = leases_[node];
  if (lease.port != 0 && lease.port != port.value_or(0)) by_port_.erase(lease.port);
  if (!lease.host.empty() && lease.host != host.value_or("")) by_host_.erase(lease.host);
  lease.port = port.value_or(0);
  lease.host = host.value_or("");
  if (lease.port != 0) by_port_[lease.port] = node;
  if (!lease.host.empty()) by_host_[lease.host] = node;
  lease.last_active = now;
  // Until a session of the node starts, the lease counts down: a
  // registration that fails after this leaves nothing behind for long.
  if (lease.sessions == 0) lease.expires = now + policy_.lease;
  grant.port = lease.port;
  grant.host = lease.host;
  return grant;
}

std::optional<std::uint16_t> AllocationTable::pick_port(const AllocationRequest& request,
                                                        const std::string& node) {
  const auto held = leases_.find(node);
  const std::uint16_t current = held == leases_.end() ? 0 : held->second.port;
  if (request.port_kind == AllocationRequest::Kind::preferred) {
    const auto owner = by_port_.find(request.port);
    if (owner == by_port_.end() || owner->second == node) return request.port;
  } else if (current != 0) {
    return current;  // `auto` keeps what the node holds
  }
  // Free ports, one of them at random; the node's own counts as free.
  const std::size_t range = std::size_t{policy_.last_port} - policy_.first_port + 1;
  std::size_t taken = 0;
  for (const auto& [port, owner] : by_port_) taken += owner != node;
  if (taken >= range) return std::nullopt;
  std::size_t index = std::uniform_int_distribution<std::size_t>(0, range - taken - 1)(random_);
  for (std::size_t offset = 0; offset < range; ++offset) {
    const auto port = static_cast<std::uint16_t>(policy_.first_port + offset);
    const auto owner = by_port_.find(port);
    if (owner != by_port_.end() && owner->second != node) continue;
    if (index-- == 0) return port;
  }
  return std::nullopt;
}

std::optional<std::string> AllocationTable::pick_host(const AllocationRequest& request,
                                                      const std::string& node) {
  const auto held = leases_.find(node);
  const std::string current = held == leases_.end() ? std::string() : held->second.host;
  if (request.host_kind == AllocationRequest::Kind::preferred) {
    const std::string wanted = request.label + policy_.host_suffix;
    const auto owner = by_host_.find(wanted);
    if (owner == by_host_.end() || owner->second == node) return wanted;
  } else if (!current.empty()) {
    return current;
  }
  // Random labels (never sequential: a host name must not be guessable
  // from another). With 36^8 names a collision is rare; a few tries.
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> letter(0, sizeof kAlphabet - 2);
  for (int attempt = 0; attempt < kAutoLabelTries; ++attempt) {
    std::string label(kAutoLabelLength, 'a');
    for (char& c : label) c = kAlphabet[letter(random_)];
    std::string candidate = label + policy_.host_suffix;
    if (!by_host_.contains(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string AllocationTable::eviction_candidate(const std::string& node, bool needs_port,
                                                bool needs_host, Clock::time_point now) const {
  const std::string* best = nullptr;
  Clock::time_point best_active{};
  for (const auto& [owner, lease] : leases_) {
    if (owner == node || now - lease.last_active < policy_.idle_after) continue;
    if (needs_port && lease.port == 0) continue;
    if (needs_host && lease.host.empty()) continue;
    if (best == nullptr || lease.last_active < best_active) {
      best = &owner;
      best_active = lease.last_active;
    }
  }
  return best == nullptr ? std::string() : *best;
}

void AllocationTable::session_started(const std::string& node) {
  const auto it = leases_.find(node);
  if (it == leases_.end()) return;
  ++it->second.sessions;
  it->second.expires.reset();
}

void AllocationTable::session_ended(const std::string& node, Clock::time_point now) {
  const auto it = leases_.find(node);
  if (it == leases_.end() || it->second.sessions == 0) return;
  if (--it->second.sessions == 0) it->second.expires = now + policy_.lease;
}

void AllocationTable::touch(const std::string& node, Clock::time_point now) {
  const auto it = leases_.find(node);
  if (it != leases_.end()) it->second.last_active = now;
}

std::vector<AllocationTable::Released> AllocationTable::expire(Clock::time_point now) {
  std::vector<Released> released;
  for (const auto& [node, lease] : leases_) {
    if (lease.expires && *lease.expires <= now) {
      released.push_back(Released{node, lease.port, lease.host});
    }
  }
  for (const Released& gone : released) remove(gone.node);
  return released;
}

std::optional<AllocationTable::Clock::time_point> AllocationTable::next_expiry() const {
  std::optional<Clock::time_point> next;
  for (const auto& [node, lease] : leases_) {
    if (lease.expires && (!next || *lease.expires < *next)) next = lease.expires;
  }
  return next;
}

std::optional<std::string> AllocationTable::port_owner(std::uint16_t port) const {
  const auto it = by_port_.find(port);
  if (it == by_port_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AllocationTable::host_owner(std::string_view host) const {
  const auto it = by_host_.find(std::string(host));
  if (it == by_host_.end()) return std::nullopt;
  return it->second;
}

void AllocationTable::remove(const std::string& node) {
  const auto it = leases_.find(node);
  if (it == leases_.end()) return;
  if (it->second.port != 0) by_port_.erase(it->second.port);
  if (!it->second.host.empty()) by_host_.erase(it->second.host);
  leases_.erase(it);
}

}  // namespace dialback::edge
