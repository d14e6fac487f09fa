#include "edge/session_registry.hpp"

#include <algorithm>

namespace dialback::edge {

SessionRegistry::Tunnel& SessionRegistry::tunnel(std::string_view name) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) it = tunnels_.emplace(std::string(name), Tunnel{}).first;
  return it->second;
}

bool SessionRegistry::eligible(TunnelSession& session, const SessionFilter& filter) {
  const auto& id = session.identity();
  return (filter.node.empty() || id.node == filter.node) &&
         (filter.cluster.empty() || id.cluster == filter.cluster) && session.accepting();
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

void SessionRegistry::add(std::string_view name, TunnelSession* session) {
  Tunnel& t = tunnel(name);
  t.sessions.push_back(session);
  if (t.policy == BalancePolicy::hash) join_ring(t, session->identity().node);
}

void SessionRegistry::remove(std::string_view name, TunnelSession* session) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return;
  Tunnel& t = it->second;
  auto& sessions = t.sessions;
  const auto before = sessions.size();
  sessions.erase(std::remove(sessions.begin(), sessions.end(), session), sessions.end());
  if (t.policy == BalancePolicy::hash && sessions.size() < before) {
    leave_ring(t, session->identity().node);
  }
}

TunnelSession* SessionRegistry::pick_by_hash(Tunnel& t, const SessionFilter& filter,
                                             std::string_view key) {
  auto least_busy_of = [&](std::string_view node) {
    TunnelSession* best = nullptr;
    std::size_t best_inflight = 0;
    for (auto* session : t.sessions) {
      if (session->identity().node != node || !eligible(*session, filter)) continue;
      const std::size_t inflight = session->stats().inflight;
      if (best == nullptr || inflight < best_inflight) {
        best = session;
        best_inflight = inflight;
      }
    }
    return best;
  };
  const auto node =
      t.ring.pick(key, [&](std::string_view member) { return least_busy_of(member) != nullptr; });
  return node ? least_busy_of(*node) : nullptr;
}

TunnelSession* SessionRegistry::pick(std::string_view name, const SessionFilter& filter,
                                     std::string_view hash_key) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return nullptr;
  Tunnel& t = it->second;
  if (t.policy == BalancePolicy::hash && !hash_key.empty())
    return pick_by_hash(t, filter, hash_key);
  t.candidates.clear();
  for (auto* session : t.sessions) {
    t.candidates.push_back(PickCandidate{session->stats().inflight, eligible(*session, filter)});
  }
  auto index = t.picker.pick(t.candidates);
  return index ? t.sessions[*index] : nullptr;
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
