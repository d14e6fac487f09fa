#include "edge/session_registry.hpp"

#include <algorithm>

namespace dialback::edge {

SessionRegistry::SessionRegistry(const std::vector<BalancePolicy>& policies) {
  tunnels_.reserve(policies.size());
  for (auto policy : policies) {
    tunnels_.emplace_back(policy == BalancePolicy::round_robin ? PickPolicy::round_robin
                                                               : PickPolicy::least_inflight);
  }
}

void SessionRegistry::add(std::size_t tunnel, TunnelSession* session) {
  tunnels_[tunnel].sessions.push_back(session);
}

void SessionRegistry::remove(std::size_t tunnel, TunnelSession* session) {
  auto& sessions = tunnels_[tunnel].sessions;
  sessions.erase(std::remove(sessions.begin(), sessions.end(), session), sessions.end());
}

TunnelSession* SessionRegistry::pick(std::size_t tunnel) {
  auto& t = tunnels_[tunnel];
  t.candidates.clear();
  for (auto* session : t.sessions) {
    t.candidates.push_back(PickCandidate{session->stats().inflight, session->accepting()});
  }
  auto index = t.picker.pick(t.candidates);
  return index ? t.sessions[*index] : nullptr;
}

std::vector<TunnelSession*> SessionRegistry::all() const {
  std::vector<TunnelSession*> out;
  for (const auto& t : tunnels_) out.insert(out.end(), t.sessions.begin(), t.sessions.end());
  return out;
}

}  // namespace dialback::edge
