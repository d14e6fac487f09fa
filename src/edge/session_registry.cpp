#include "edge/session_registry.hpp"

#include <algorithm>

namespace dialback::edge {

using Clock = std::chrono::steady_clock;

SessionRegistry::Tunnel& SessionRegistry::tunnel(std::string_view name) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) it = tunnels_.try_emplace(std::string(name)).first;
  return it->second;
}

bool SessionRegistry::eligible(const Tunnel& t, std::size_t index, const SessionFilter& filter) {
  const TunnelSession& session = *t.sessions[index];
  const auto& id = session.identity();
  return (filter.node.empty() || id.node == filter.node) &&
         (filter.cluster.empty() || id.cluster == filter.cluster) &&
         (filter.leased || !t.leases_only[index]) && session.accepting();
}

void SessionRegistry::join_ring(Tunnel& t, const std::string& node) {
  if (++t.node_sessions[node] == 1) t.ring.add(node);
}

void SessionRegistry::leave_ring(Tunnel& t, const std::string& node) {
  auto it = t.node_sessions.find(node);
  if (it == t.node_sessions.end() || --it->second > 0) return;
  t.node_sessions.erase(it);
  t.ring.remove(node);
}

void SessionRegistry::set_policy(std::string_view name, BalancePolicy policy) {
  Tunnel& t = tunnel(name);
  t.policy = policy;
  t.picker = SessionPicker(policy == BalancePolicy::round_robin ? PickPolicy::round_robin
                                                                : PickPolicy::least_inflight);
  // The ring costs a sort per node that joins: kept only where it is used.
  t.ring = HashRing();
  t.node_sessions.clear();
  if (policy == BalancePolicy::hash) {
    for (auto* session : t.sessions) join_ring(t, session->identity().node);
  }
}

void SessionRegistry::add(std::string_view name, TunnelSession* session, bool leases_only) {
  Tunnel& t = tunnel(name);
  t.sessions.push_back(session);
  t.leases_only.push_back(leases_only);
  t.health.push_back(std::make_shared<SessionHealth>(outlier_, std::string(name),
                                                     session->identity().session_id, logger_));
  if (t.policy == BalancePolicy::hash) join_ring(t, session->identity().node);
}

void SessionRegistry::remove(std::string_view name, TunnelSession* session) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return;
  Tunnel& t = it->second;
  const auto found = std::find(t.sessions.begin(), t.sessions.end(), session);
  if (found == t.sessions.end()) return;
  const auto index = found - t.sessions.begin();
  t.sessions.erase(found);
  t.health.erase(t.health.begin() + index);
  t.leases_only.erase(t.leases_only.begin() + index);
  if (t.policy == BalancePolicy::hash) leave_ring(t, session->identity().node);
}

std::optional<std::size_t> SessionRegistry::pick_by_hash(Tunnel& t, const SessionFilter& filter,
                                                         std::string_view key, bool skip_ejected,
                                                         Clock::time_point now) {
  auto least_busy_of = [&](std::string_view node) -> std::optional<std::size_t> {
    std::optional<std::size_t> best;
    std::size_t best_inflight = 0;
    for (std::size_t i = 0; i < t.sessions.size(); ++i) {
      TunnelSession& session = *t.sessions[i];
      if (session.identity().node != node || !eligible(t, i, filter)) continue;
      if (skip_ejected && t.health[i]->ejected(now)) continue;
      const std::size_t inflight = session.stats().inflight;
      if (!best || inflight < best_inflight) {
        best = i;
        best_inflight = inflight;
      }
    }
    return best;
  };
  const auto node =
      t.ring.pick(key, [&](std::string_view member) { return least_busy_of(member).has_value(); });
  if (!node) return std::nullopt;
  return least_busy_of(*node);
}

std::optional<std::size_t> SessionRegistry::pick_among(Tunnel& t, const SessionFilter& filter,
                                                       std::string_view hash_key, bool skip_ejected,
                                                       Clock::time_point now) {
  if (t.policy == BalancePolicy::hash && !hash_key.empty()) {
    return pick_by_hash(t, filter, hash_key, skip_ejected, now);
  }
  t.candidates.clear();
  for (std::size_t i = 0; i < t.sessions.size(); ++i) {
    TunnelSession& session = *t.sessions[i];
    const bool usable = eligible(t, i, filter) && !(skip_ejected && t.health[i]->ejected(now));
    t.candidates.push_back(PickCandidate{session.stats().inflight, usable});
  }
  return t.picker.pick(t.candidates);
}

PickedSession SessionRegistry::pick(std::string_view name, const SessionFilter& filter,
                                    std::string_view hash_key) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return {};
  Tunnel& t = it->second;
  const auto now = Clock::now();
  auto index = pick_among(t, filter, hash_key, /*skip_ejected=*/true, now);
  // Every eligible session ejected: better one that may work than a 503.
  if (!index) index = pick_among(t, filter, hash_key, /*skip_ejected=*/false, now);
  if (!index) return {};
  return PickedSession{t.sessions[*index], t.health[*index]};
}

std::size_t SessionRegistry::count(std::string_view name) const {
  auto it = tunnels_.find(name);
  return it == tunnels_.end() ? 0 : it->second.sessions.size();
}

std::vector<TunnelSession*> SessionRegistry::all() const {
  std::vector<TunnelSession*> out;
  for (const auto& [name, t] : tunnels_) {
    out.insert(out.end(), t.sessions.begin(), t.sessions.end());
  }
  return out;
}

}  // namespace dialback::edge
