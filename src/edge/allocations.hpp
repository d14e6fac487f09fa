// Allocations: the ports and host names that tunnels with an `allocate`
// section lease to agents on demand (docs/protocol.md §14). One
// AllocationTable per such tunnel. A leased port gets a listener of its own
// on `allocate.bind` (PublicTcpServer::open_port, pinned to the agent's
// node) that closes with the lease; a leased host name is routed by
// RequestForwarder after the configured hosts, to that agent only. Leases
// end in expiry_loop(), which wakes when the next one runs out. One per
// edge, on its executor.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/edge_config.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/allocation_table.hpp"
#include "edge/public_tcp_server.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "tunnel/registration.hpp"

namespace dialback::edge {

class Allocations {
 public:
  using Clock = std::chrono::steady_clock;

  struct Leased {
    std::size_t tunnel;
    std::string node;
  };

  Allocations(asio::any_io_executor executor, const EdgeConfig& config, const TunnelTable& tunnels,
              PublicTcpServer& tcp, SessionRegistry& registry, Logger logger);

  // At registration, once the agent is admitted to tunnel number `tunnel`:
  // grants `request` to `node`, binds a newly leased port, and takes the
  // lease of an idle agent when the tunnel says `evict: idle` (its sessions
  // get GOAWAY). Returns the routes to show the agent ("tcp://ADDR:PORT",
  // "https://HOST"), or the refusal: 400 when the tunnel allocates nothing
  // of the kind, 429 when nothing is free, 503 when the port cannot be bound.
  tl::expected<std::string, RegistrationRejection> acquire(std::size_t tunnel,
                                                           const std::string& node,
                                                           const AllocationRequest& request);
  // A session of `node` in `tunnel` started or ended (every session of an
  // allocating tunnel reports; nodes without a lease are ignored).
  void session_started(std::size_t tunnel, const std::string& node);
  void session_ended(std::size_t tunnel, const std::string& node);
  // Public traffic for a lease: it is not idle.
  void touch(std::size_t tunnel, const std::string& node);
  // The agent a leased host name belongs to; `authority` may carry a port.
  std::optional<Leased> route(std::string_view authority) const;

  // Leases held now, over every tunnel (tests, status).
  std::size_t lease_count() const;

  // Ends leases as they run out (closing their ports) until stop().
  Task<void> expiry_loop();
  void stop();

 private:
  struct TunnelLeases {
    AllocationTable table;
    const AllocateConfig* config;
    std::chrono::milliseconds tcp_idle_timeout;
    std::unordered_map<std::string, tcp::endpoint> bound;  // node -> its port's listener
  };

  // Binds (or moves) `node`'s listener to `port`; false when it cannot be bound.
  bool bind_port(std::size_t tunnel, TunnelLeases& leases, const std::string& node,
                 std::uint16_t port, std::string& error);
  void unbind_port(TunnelLeases& leases, const std::string& node);
  void evict(std::size_t tunnel, const std::string& node);
  std::string host_url(const std::string& host) const;

  asio::any_io_executor executor_;
  const EdgeConfig& config_;
  const TunnelTable& tunnels_;
  PublicTcpServer& tcp_;
  SessionRegistry& registry_;
  Logger logger_;
  std::map<std::size_t, TunnelLeases> leases_;  // by tunnel index
  // Agents whose lease was taken (evict: idle), so that their next
  // registration is told why; forgotten after the tunnel's lease time.
  std::map<std::pair<std::size_t, std::string>, Clock::time_point> evicted_;
  asio::steady_timer wake_;  // the expiry loop's; cancelled when a deadline may have moved
  TaskGroup closing_;        // ports being closed
  bool stopped_ = false;
};

}  // namespace dialback::edge
