#include "edge/tunnel_table.hpp"

namespace dialback::edge {
namespace {

tl::expected<TokenSet, std::string> token_set(const std::vector<std::string>& tokens,
                                              const std::vector<TokenFileConfig>& files) {
  std::vector<std::string> entries = tokens;
  for (const auto& file : files)
    entries.insert(entries.end(), file.tokens.begin(), file.tokens.end());
  return TokenSet::from_entries(entries);
}

}  // namespace

tl::expected<TunnelTable, std::string> TunnelTable::build(const std::vector<TunnelConfig>& tunnels) {
  TunnelTable table;
  for (const auto& config : tunnels) {
    auto tokens = token_set(config.auth.tokens, config.auth.token_files);
    if (!tokens) return tl::unexpected("tunnel " + config.name + ": " + tokens.error());
    TokenSet allocation_tokens;
    if (config.allocate) {
      auto scoped = token_set(config.allocate->tokens, config.allocate->token_files);
      if (!scoped) return tl::unexpected("tunnel " + config.name + " allocate: " + scoped.error());
      allocation_tokens = std::move(*scoped);
    }
    std::vector<BasicCredential> pairs;
    for (const auto& entry : config.auth.basic) pairs.push_back({entry.username, entry.password});
    auto basic = BasicCredentialSet::from_entries(pairs);
    if (!basic) return tl::unexpected("tunnel " + config.name + ": " + basic.error());
    const std::size_t index = table.entries_.size();
    for (const auto& host : config.hosts) {
      if (!table.router_.add(host, index)) {
        return tl::unexpected("tunnel " + config.name + ": invalid or duplicate host " + host);
      }
    }
    table.entries_.push_back(TunnelEntry{
        config.name,
        TunnelAuthPolicy{std::move(*tokens), config.auth.client_names, std::move(*basic)},
        config.hosts, config.tenant, config.identity_routing, config.balance, config.hash_key,
        config.auth.external, std::move(allocation_tokens)});
    table.by_name_.emplace(config.name, index);
    if (config.envoy_clusters.empty()) {
      table.by_envoy_cluster_.emplace(config.name, index);
    }
    if (!table.by_reverst_group_.emplace(config.reverst_group_name(), index).second) {
      return tl::unexpected("tunnel " + config.name + ": duplicate reverst group " +
                            config.reverst_group_name());
    }
    for (const auto& cluster : config.envoy_clusters) {
      if (!table.by_envoy_cluster_.emplace(cluster, index).second) {
        return tl::unexpected("tunnel " + config.name + ": duplicate envoy cluster " + cluster);
      }
    }
  }
  return table;
}

std::optional<std::size_t> TunnelTable::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> TunnelTable::find_by_envoy_cluster(std::string_view cluster) const {
  auto it = by_envoy_cluster_.find(std::string(cluster));
  if (it == by_envoy_cluster_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> TunnelTable::find_by_reverst_group(std::string_view group) const {
  auto it = by_reverst_group_.find(std::string(group));
  if (it == by_reverst_group_.end()) return std::nullopt;
  return it->second;
}

bool TunnelTable::accepted_anywhere(const Credentials& credentials) const {
  bool accepted = false;
  for (const auto& entry : entries_) {
    accepted = (authorize(entry.auth, credentials) == AuthOutcome::allowed) || accepted;
    accepted =
        (credentials.token && entry.allocation_tokens.matches(*credentials.token)) || accepted;
  }
  return accepted;
}

std::optional<std::size_t> TunnelTable::find_by_certificate(
    const std::vector<std::string>& cert_names) const {
  Credentials credentials;
  credentials.cert_names = cert_names;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].auth.client_names.empty() &&
        authorize(entries_[i].auth, credentials) == AuthOutcome::allowed) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace dialback::edge
