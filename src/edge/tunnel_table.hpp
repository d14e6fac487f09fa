// TunnelTable: the edge's configured tunnels (names, credentials, hosts),
// built once from the config; immutable afterwards.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/authorize.hpp"
#include "config/edge_config.hpp"
#include "core/result.hpp"
#include "routing/host_router.hpp"

namespace dialback::edge {

struct TunnelEntry {
  std::string name;
  TunnelAuthPolicy auth;  // the local credentials
  std::vector<std::string> hosts;
  std::string tenant;
  std::optional<IdentityRoutingConfig> identity_routing;
  BalancePolicy balance = BalancePolicy::least_inflight;
  HashKey hash_key;
  std::optional<ExternalAuthConfig> external;  // asked when no local credential accepts
  // allocate.tokens and allocate.token_files: admit an agent only to the
  // ports and host names it leases.
  TokenSet allocation_tokens;
};

class TunnelTable {
 public:
  // Fails with a message naming the tunnel when a token entry (of tokens or
  // token_files), a basic entry or a host is malformed.
  static tl::expected<TunnelTable, std::string> build(const std::vector<TunnelConfig>& tunnels);

  std::optional<std::size_t> find(std::string_view name) const;
  std::optional<std::size_t> route(std::string_view host) const { return router_.match(host); }
  const TunnelEntry& operator[](std::size_t index) const { return entries_[index]; }
  std::size_t size() const { return entries_.size(); }

  // True when `credentials` would be accepted by some tunnel's local
  // credentials (tokens, token_files, basic, client_names, allocation
  // tokens; not external), to tell 403/404 from 401.
  bool accepted_anywhere(const Credentials& credentials) const;
  // The tunnel an Envoy initiator's cluster id names (envoy_clusters, else
  // the tunnel's name).
  std::optional<std::size_t> find_by_envoy_cluster(std::string_view cluster) const;
  // The tunnel a Reverst tunnel group names (reverst_group, else its name).
  std::optional<std::size_t> find_by_reverst_group(std::string_view group) const;
  // The tunnel whose client_names list one of `cert_names` (rhttp identity).
  std::optional<std::size_t> find_by_certificate(const std::vector<std::string>& cert_names) const;

 private:
  std::vector<TunnelEntry> entries_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::unordered_map<std::string, std::size_t> by_envoy_cluster_;
  std::unordered_map<std::string, std::size_t> by_reverst_group_;
  HostRouter router_;
};

}  // namespace dialback::edge
