// SessionRegistry: the live sessions of every tunnel and the choice among
// them. Owned by the Edge; sessions register for as long as they run.
#pragma once

#include <string>
#include <vector>

#include "config/balance_policy.hpp"
#include "routing/session_picker.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::edge {

class SessionRegistry {
 public:
  SessionRegistry(const std::vector<BalancePolicy>& policies);

  void add(std::size_t tunnel, TunnelSession* session);
  void remove(std::size_t tunnel, TunnelSession* session);

  // A session of `tunnel` that accepts new streams, by the tunnel's policy.
  TunnelSession* pick(std::size_t tunnel);
  std::size_t count(std::size_t tunnel) const { return tunnels_[tunnel].sessions.size(); }
  std::vector<TunnelSession*> all() const;

 private:
  struct Tunnel {
    explicit Tunnel(PickPolicy policy) : picker(policy) {}
    std::vector<TunnelSession*> sessions;
    std::vector<PickCandidate> candidates;  // scratch, reused per pick
    SessionPicker picker;
  };
  std::vector<Tunnel> tunnels_;
};

}  // namespace dialback::edge
