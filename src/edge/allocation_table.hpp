// AllocationTable: the ports and host names of one tunnel's `allocate`
// section, leased to its agents on demand (docs/protocol.md §14). Pure
// logic: no sockets, the clock and the random source come from the caller.
//
// A lease belongs to an agent, named by its node: every session of that
// node shares it, and it outlives them by `lease` so that a reconnecting
// agent gets the same port and host back. A preferred port or label is
// granted when free (or already the node's); otherwise, and for `auto`, a
// free one is picked at random (DevTunnel's rule for a taken preferred
// port). When the pool is exhausted the request is refused, unless
// `evict_idle`: then the least recently active lease whose agent moved no
// public traffic for `idle_after` is taken away (the caller closes its
// sessions and tells them why) and its port or host given to the new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "core/allocation_request.hpp"

namespace dialback::edge {

struct AllocationPolicy {
  std::uint16_t first_port = 0;  // 0: no ports to hand out
  std::uint16_t last_port = 0;
  std::string host_suffix;  // ".dev.example.test" for "*.dev.example.test"; empty: no hosts
  std::chrono::steady_clock::duration lease = std::chrono::minutes(5);
  bool evict_idle = false;
  std::chrono::steady_clock::duration idle_after = std::chrono::seconds(30);
};

// What a node holds after a successful acquire().
struct AllocationGrant {
  std::uint16_t port = 0;  // 0: none
  std::string host;        // full host name; empty: none
  // Agents whose lease was taken to make room (evict_idle): the caller
  // closes their sessions and unbinds their port and host.
  std::vector<std::string> evicted_nodes;
};

struct AllocationRefusal {
  int status = 429;  // 400: the tunnel does not allocate it, or out of range; 429: full
  std::string message;
};

class AllocationTable {
 public:
  using Clock = std::chrono::steady_clock;

  AllocationTable(AllocationPolicy policy, std::uint64_t seed);

  // Grants `request` to `node`, which keeps what it held when it asks for
  // the same again (or for `auto`). A node asking for a different
  // preferred port or label than it holds gets it when free, and lets the
  // old one go.
  tl::expected<AllocationGrant, AllocationRefusal> acquire(const std::string& node,
                                                           const AllocationRequest& request,
                                                           Clock::time_point now);

  // Session accounting: a lease runs out `lease` after its node's last
  // session ended, unless one starts again first.
  void session_started(const std::string& node);
  void session_ended(const std::string& node, Clock::time_point now);
  // Public traffic for the node (a connection or a request): it is not idle.
  void touch(const std::string& node, Clock::time_point now);

  // Ends `node`'s lease at once (its port could not be bound).
  void release(const std::string& node) { remove(node); }

  // Removes the leases that ran out by `now`; returns what they held.
  struct Released {
    std::string node;
    std::uint16_t port = 0;
    std::string host;
  };
  std::vector<Released> expire(Clock::time_point now);
  // When the next lease runs out; nullopt when none is counting down.
  std::optional<Clock::time_point> next_expiry() const;

  // Who holds a port or host right now.
  std::optional<std::string> port_owner(std::uint16_t port) const;
  std::optional<std::string> host_owner(std::string_view host) const;
  std::size_t lease_count() const { return leases_.size(); }

 private:
  struct Lease {
    std::uint16_t port = 0;
    std::string host;
    std::size_t sessions = 0;
    Clock::time_point last_active;
    std::optional<Clock::time_point> expires;  // set while no session is up
  };

  // A free port / host for `node`, nullopt when none is free.
  std::optional<std::uint16_t> pick_port(const AllocationRequest& request,
                                         const std::string& node);
  std::optional<std::string> pick_host(const AllocationRequest& request, const std::string& node);
  // The least recently active idle lease other than `node`'s that holds
  // what `needs_port` / `needs_host` ask for; empty when none.
  std::string eviction_candidate(const std::string& node, bool needs_port, bool needs_host,
                                 Clock::time_point now) const;
  void remove(const std::string& node);

  AllocationPolicy policy_;
  std::mt19937_64 random_;
  std::unordered_map<std::string, Lease> leases_;            // by node
  std::unordered_map<std::uint16_t, std::string> by_port_;  // port -> node
  std::unordered_map<std::string, std::string> by_host_;     // host -> node
};

}  // namespace dialback::edge
