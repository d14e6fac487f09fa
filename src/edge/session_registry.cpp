#include "edge/session_registry.hpp"

#include <algorithm>

namespace dialback::edge {

SessionRegistry::Tunnel& SessionRegistry::tunnel(std::string_view name) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) it = tunnels_.emplace(std::string(name), Tunnel{}).first;
  return it->second;
}

void SessionRegistry::set_policy(std::string_view name, BalancePolicy policy) {
  tunnel(name).picker = SessionPicker(policy == BalancePolicy::round_robin
                                          ? PickPolicy::round_robin
                                          : PickPolicy::least_inflight);
}

void SessionRegistry::add(std::string_view name, TunnelSession* session) {
  tunnel(name).sessions.push_back(session);
}

void SessionRegistry::remove(std::string_view name, TunnelSession* session) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return;
  auto& sessions = it->second.sessions;
  sessions.erase(std::remove(sessions.begin(), sessions.end(), session), sessions.end());
}

TunnelSession* SessionRegistry::pick(std::string_view name, const SessionFilter& filter) {
  auto it = tunnels_.find(name);
  if (it == tunnels_.end()) return nullptr;
  Tunnel& t = it->second;
  t.candidates.clear();
  for (auto* session : t.sessions) {
    const auto& id = session->identity();
    const bool matches = (filter.node.empty() || id.node == filter.node) &&
                         (filter.cluster.empty() || id.cluster == filter.cluster);
    t.candidates.push_back(
        PickCandidate{session->stats().inflight, matches && session->accepting()});
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
