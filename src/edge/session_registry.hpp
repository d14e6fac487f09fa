// SessionRegistry: the live sessions of every tunnel and the choice among
// them, keyed by the tunnel's stable id (its name), not its position in the
// config file, so that a new tunnel table can replace the old one under
// live sessions. Owned by the Edge; sessions register for as long as they run.
//
// Each session has a SessionHealth (outlier detection): a pick leaves
// ejected sessions out while any other eligible session is left, and falls
// back to them only when every eligible session is ejected (better a
// session that may work than a certain 503).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/balance_policy.hpp"
#include "core/logging.hpp"
#include "edge/session_health.hpp"
#include "routing/hash_ring.hpp"
#include "routing/session_picker.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::edge {

// Which sessions a request may use (identity routing): empty fields match all.
struct SessionFilter {
  std::string_view node;     // only sessions of this node
  std::string_view cluster;  // only sessions of this cluster
  // The request came through a port or host name leased to `node`: its
  // leases-only sessions may serve it. Every other request leaves them out.
  bool leased = false;
};

// A picked session and the health its stream reports to.
struct PickedSession {
  TunnelSession* session = nullptr;
  std::shared_ptr<SessionHealth> health;
  explicit operator bool() const { return session != nullptr; }
};

class SessionRegistry {
 public:
  // `logger` names ejections.
  explicit SessionRegistry(OutlierPolicy outlier = {}, Logger logger = nullptr)
      : outlier_(outlier), logger_(std::move(logger)) {}

  // The balancing policy of a tunnel; tunnels not named use least_inflight.
  void set_policy(std::string_view tunnel, BalancePolicy policy);

  // `leases_only`: admitted by an allocation-scoped credential, the session
  // serves only requests whose filter is `leased`.
  void add(std::string_view tunnel, TunnelSession* session, bool leases_only = false);
  void remove(std::string_view tunnel, TunnelSession* session);

  // A session of `tunnel` that accepts new streams and passes `filter`, by
  // the tunnel's policy. `hash`: the node that owns `hash_key` on the
  // tunnel's ring (the next one clockwise while it has no eligible
  // session), then that node's least busy session; an empty key falls back
  // to least_inflight.
  PickedSession pick(std::string_view tunnel, const SessionFilter& filter = {},
                     std::string_view hash_key = {});
  std::size_t count(std::string_view tunnel) const;
  std::vector<TunnelSession*> all() const;

 private:
  struct Tunnel {
    std::vector<TunnelSession*> sessions;
    std::vector<std::shared_ptr<SessionHealth>> health;  // of sessions[i]
    std::vector<bool> leases_only;                       // of sessions[i]
    std::vector<PickCandidate> candidates;  // scratch, reused per pick
    SessionPicker picker{PickPolicy::least_inflight};
    BalancePolicy policy = BalancePolicy::least_inflight;
    // balance: hash only: the nodes with sessions, and how many each has.
    HashRing ring;
    std::unordered_map<std::string, std::size_t> node_sessions;
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };
  Tunnel& tunnel(std::string_view name);
  static bool eligible(const Tunnel& t, std::size_t index, const SessionFilter& filter);
  // The pick among sessions passing `filter`, ejected ones included or not.
  static std::optional<std::size_t> pick_among(Tunnel& t, const SessionFilter& filter,
                                               std::string_view hash_key, bool skip_ejected,
                                               std::chrono::steady_clock::time_point now);
  static std::optional<std::size_t> pick_by_hash(Tunnel& t, const SessionFilter& filter,
                                                 std::string_view key, bool skip_ejected,
                                                 std::chrono::steady_clock::time_point now);
  static void join_ring(Tunnel& t, const std::string& node);
  static void leave_ring(Tunnel& t, const std::string& node);

  OutlierPolicy outlier_;
  Logger logger_;
  std::unordered_map<std::string, Tunnel, NameHash, std::equal_to<>> tunnels_;
};

}  // namespace dialback::edge
