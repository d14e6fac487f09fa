// Semantic rules of the edge config, checked on the struct so that values
// from flags are held to the same rules as values from the file.
#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/config_rules.hpp"
#include "config/edge_config.hpp"

namespace dialback {
namespace {

constexpr int kMaxSessionsPerTunnel = 1'000'000;
constexpr std::size_t kMinHeaderBytes = 1u << 10;
constexpr std::size_t kMaxHeaderBytes = 1u << 20;
constexpr std::size_t kMaxHeaderFields = 10'000;
// Bounds that keep time arithmetic far from overflow.
constexpr std::chrono::milliseconds kLongestEjection = std::chrono::hours(24);
constexpr std::chrono::milliseconds kLongestExternalTimeout = std::chrono::minutes(1);
constexpr std::chrono::milliseconds kLongestExternalCache = std::chrono::hours(24);

ConfigError error(std::string key, std::string message) {
  return ConfigError{"", 0, std::move(key), std::move(message)};
}

std::string indexed(const std::string& key, std::size_t i) { return key + "[" + std::to_string(i) + "]"; }

std::optional<ConfigError> check_positive(const std::string& key, std::chrono::milliseconds value) {
  if (value.count() <= 0) return error(key, "must be greater than zero");
  return std::nullopt;
}

std::optional<ConfigError> check_agents(const AgentListenerConfig& agents) {
  if (agents.cert.empty()) return error("agents.cert", "required");
  if (agents.key.empty()) return error("agents.key", "required");
  if (auto e = check_positive("agents.handshake_timeout", agents.handshake_timeout)) return e;
  if (auto e = check_positive("agents.ping_interval", agents.ping_interval)) return e;
  if (auto e = check_positive("agents.ping_timeout", agents.ping_timeout)) return e;
  if (auto e = validate_flow_windows(agents.windows, "agents.")) return e;
  if (agents.max_response_header_bytes < kMinHeaderBytes ||
      agents.max_response_header_bytes > kMaxHeaderBytes) {
    return error("agents.max_response_header_bytes", "must be from 1KiB to 1MiB");
  }
  if (agents.max_sessions_per_tunnel < 1 || agents.max_sessions_per_tunnel > kMaxSessionsPerTunnel) {
    return error("agents.max_sessions_per_tunnel",
                 "must be from 1 to " + std::to_string(kMaxSessionsPerTunnel));
  }
  const OutlierPolicy& outlier = agents.outlier_detection;
  if (auto e = check_positive("agents.outlier_detection.base_ejection", outlier.base_ejection)) {
    return e;
  }
  if (outlier.max_ejection < outlier.base_ejection) {
    return error("agents.outlier_detection.max_ejection", "must not be less than base_ejection");
  }
  if (outlier.max_ejection > kLongestEjection) {
    return error("agents.outlier_detection.max_ejection", "must be at most 24h");
  }
  if (agents.quic) {
    if (auto e = validate_quic_settings(agents.quic->settings, "agents.quic.")) return e;
    if (agents.quic->max_connections < 1) {
      return error("agents.quic.max_connections", "must be at least 1");
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> check_public(const PublicConfig& pub) {
  if (pub.https) {
    if (pub.https->cert.empty()) return error("public.https.cert", "required");
    if (pub.https->key.empty()) return error("public.https.key", "required");
  }
  if (pub.h3 && !pub.https) {
    return error("public.h3", "needs public.https (HTTP/3 serves its certificate and key)");
  }
  if (pub.h3 && pub.h3->max_connections < 1) {
    return error("public.h3.max_connections", "must be at least 1");
  }
  if (auto e = check_positive("public.request_timeout", pub.request_timeout)) return e;
  if (pub.max_header_bytes < kMinHeaderBytes || pub.max_header_bytes > kMaxHeaderBytes) {
    return error("public.max_header_bytes", "must be from 1KiB to 1MiB");
  }
  if (pub.max_header_fields < 1 || pub.max_header_fields > kMaxHeaderFields) {
    return error("public.max_header_fields",
                 "must be from 1 to " + std::to_string(kMaxHeaderFields));
  }
  if (auto e = check_positive("public.header_timeout", pub.header_timeout)) return e;
  if (auto e = check_positive("public.idle_timeout", pub.idle_timeout)) return e;
  if (auto e = validate_flow_windows(pub.windows, "public.")) return e;
  if (auto e = check_positive("public.first_byte_timeout", pub.first_byte_timeout)) return e;
  if (pub.route_by_forwarded_host && pub.trusted_proxies.empty()) {
    return error("public.route_by_forwarded_host", "needs public.trusted_proxies");
  }
  return check_positive("public.stream_idle_timeout", pub.stream_idle_timeout);
}

std::optional<ConfigError> check_basic(const std::string& prefix,
                                       const std::vector<BasicAuthEntry>& basic) {
  for (std::size_t i = 0; i < basic.size(); ++i) {
    const std::string key = indexed(prefix, i);
    const std::string& user = basic[i].username;
    if (!is_printable_token(user) || user.find(':') != std::string::npos) {
      return error(key + ".username", "a user name must be printable ASCII without spaces or ':'");
    }
    // A password follows the token rules: "sha256:<64 hex>" or printable ASCII.
    if (auto why = check_token_spec(basic[i].password)) {
      std::string message = *why;
      if (message.starts_with("a token")) message.replace(0, 7, "a password");
      if (message == "empty token") message = "empty password";
      return error(key + ".password", message);
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> check_external(const std::string& prefix,
                                          const std::optional<ExternalAuthConfig>& external) {
  if (!external) return std::nullopt;
  if (external->url.host.empty() || external->url.port == 0 || external->url.target.empty() ||
      external->url.target.front() != '/') {
    return error(prefix + ".url", "expected http://host[:port][/path]");
  }
  if (auto e = check_positive(prefix + ".timeout", external->timeout)) return e;
  if (external->timeout > kLongestExternalTimeout) {
    return error(prefix + ".timeout", "must be at most 1m");
  }
  if (external->cache.count() < 0 || external->cache > kLongestExternalCache) {
    return error(prefix + ".cache", "must be from 0 to 24h");
  }
  return std::nullopt;
}

// `tokens` and `token_files` of an auth or allocate section under `prefix`.
std::optional<ConfigError> check_tokens(const std::string& prefix,
                                        const std::vector<std::string>& tokens,
                                        const std::vector<TokenFileConfig>& token_files) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (auto why = check_token_spec(tokens[i])) return error(indexed(prefix + ".tokens", i), *why);
  }
  for (std::size_t i = 0; i < token_files.size(); ++i) {
    const std::string key = indexed(prefix + ".token_files", i);
    if (token_files[i].path.empty()) return error(key, "empty path");
    for (const std::string& token : token_files[i].tokens) {
      // Loaded files are checked line by line already; this catches entries
      // set in code. No secret in the message.
      if (auto why = check_token_spec(token)) return error(key, *why);
    }
  }
  return std::nullopt;
}

// `scoped`: the tunnel has allocate tokens, which may be its only credential.
std::optional<ConfigError> check_auth(const std::string& prefix, const TunnelAuthConfig& auth,
                                      const AgentListenerConfig& agents, bool scoped) {
  if (auto e = check_tokens(prefix, auth.tokens, auth.token_files)) return e;
  for (std::size_t i = 0; i < auth.client_names.size(); ++i) {
    if (!is_printable_token(auth.client_names[i])) {
      return error(indexed(prefix + ".client_names", i),
                   "a client name must be printable ASCII without spaces");
    }
  }
  if (!auth.client_names.empty() && agents.client_ca.empty()) {
    return error(prefix + ".client_names", "client names need agents.client_ca (client certificates)");
  }
  if (auto e = check_basic(prefix + ".basic", auth.basic)) return e;
  if (auto e = check_external(prefix + ".external", auth.external)) return e;
  if (auth.tokens.empty() && auth.client_names.empty() && auth.token_files.empty() &&
      auth.basic.empty() && !auth.external && !scoped) {
    return error(prefix,
                 "a tunnel needs at least one credential: tokens, token_files, basic, "
                 "client_names, external (or allocate.tokens)");
  }
  return std::nullopt;
}

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// One tunnel's allocate section on its own.
std::optional<ConfigError> check_allocate(const std::string& key, const AllocateConfig& allocate) {
  if (allocate.first_port == 0 && allocate.hosts.empty()) {
    return error(key, "needs ports, hosts or both");
  }
  if (!allocate.hosts.empty() &&
      (!allocate.hosts.starts_with("*.") || !is_valid_host_pattern(allocate.hosts))) {
    return error(key + ".hosts", "expected \"*.\" and a DNS name, e.g. \"*.dev.example.test\"");
  }
  if (!is_ip_literal(allocate.bind)) return error(key + ".bind", "expected an IP address");
  if (auto e = check_positive(key + ".lease", allocate.lease)) return e;
  if (auto e = check_positive(key + ".idle_after", allocate.idle_after)) return e;
  return check_tokens(key, allocate.tokens, allocate.token_files);
}

// Across tunnels: allocated ranges and suffixes belong to one tunnel, and
// nothing configured statically falls inside them.
std::optional<ConfigError> check_allocations(const std::vector<TunnelConfig>& tunnels) {
  for (const TunnelConfig& owner : tunnels) {
    if (!owner.allocate) continue;
    const AllocateConfig& mine = *owner.allocate;
    const std::string key = "tunnels." + owner.name + ".allocate";
    const std::string suffix =
        mine.hosts.empty() ? "" : mine.hosts.substr(1);  // ".dev.example.test"
    for (const TunnelConfig& other : tunnels) {
      if (other.allocate && &other != &owner) {
        const AllocateConfig& theirs = *other.allocate;
        if (mine.first_port != 0 && theirs.first_port != 0 && mine.first_port <= theirs.last_port &&
            theirs.first_port <= mine.last_port) {
          return error(key + ".ports", "overlaps the ports of tunnel " + other.name);
        }
        if (!suffix.empty() && mine.hosts == theirs.hosts) {
          return error(key + ".hosts",
                       "\"" + mine.hosts + "\" is also allocated by tunnel " + other.name);
        }
      }
      for (std::size_t i = 0; i < other.tcp.size(); ++i) {
        const std::uint16_t port = other.tcp[i].port;
        if (mine.first_port != 0 && port >= mine.first_port && port <= mine.last_port) {
          return error(indexed("tunnels." + other.name + ".tcp", i),
                       "port " + std::to_string(port) + " is inside tunnels." + owner.name +
                           ".allocate.ports");
        }
      }
      for (std::size_t i = 0; i < other.hosts.size(); ++i) {
        const std::string& host = other.hosts[i];
        const std::string_view bare =
            host.starts_with("*.") ? std::string_view(host).substr(1) : host;
        if (!suffix.empty() && (bare.ends_with(suffix) || host == mine.hosts)) {
          return error(indexed("tunnels." + other.name + ".hosts", i),
                       "host \"" + host + "\" is inside tunnels." + owner.name + ".allocate.hosts");
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> check_devtunnel(const EdgeConfig& config) {
  if (!config.devtunnel) return std::nullopt;
  const DevTunnelConfig& dev = *config.devtunnel;
  if (dev.first_port == 0 || dev.last_port < dev.first_port) {
    return error("devtunnel.ports", "expected a port range FIRST-LAST");
  }
  if (!is_ip_literal(dev.bind)) return error("devtunnel.bind", "expected an IP address");
  if (!is_valid_identity(dev.tunnel)) {
    return error("devtunnel.tunnel", "tunnel name must be 1-63 characters of [A-Za-z0-9._-]");
  }
  for (const TunnelConfig& tunnel : config.tunnels) {
    if (tunnel.name == dev.tunnel) {
      return error("devtunnel.tunnel", "\"" + dev.tunnel +
                                           "\" is a configured tunnel; DevTunnel users need one "
                                           "of their own");
    }
    if (tunnel.allocate && tunnel.allocate->first_port != 0 &&
        tunnel.allocate->first_port <= dev.last_port &&
        dev.first_port <= tunnel.allocate->last_port) {
      return error("devtunnel.ports", "overlaps tunnels." + tunnel.name + ".allocate.ports");
    }
  }
  if (auto e = check_positive("devtunnel.poll_timeout", dev.poll_timeout)) return e;
  if (auto e = check_positive("devtunnel.request_timeout", dev.request_timeout)) return e;
  if (auto e = check_positive("devtunnel.offline_after", dev.offline_after)) return e;
  if (dev.max_body_bytes == 0) return error("devtunnel.max_body_bytes", "must be positive");
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> validate_edge_config(const EdgeConfig& config) {
  if (!is_valid_identity(config.edge.id))
    return error("edge.id", "must be 1-63 characters of [A-Za-z0-9._-]");
  if (config.edge.drain_timeout.count() < 0) return error("edge.drain_timeout", "must not be negative");
  if (auto e = check_agents(config.agents)) return e;
  if (auto e = check_public(config.public_)) return e;
  if (config.tunnels.empty() && !config.devtunnel) {
    return error("tunnels", "at least one tunnel is required");
  }
  if (auto e = check_devtunnel(config)) return e;
  // Hosts are served by the public HTTP listeners; a TCP-only edge needs none.
  const bool any_hosts =
      std::any_of(config.tunnels.begin(), config.tunnels.end(), [](const TunnelConfig& tunnel) {
        return !tunnel.hosts.empty() || (tunnel.allocate && !tunnel.allocate->hosts.empty());
      });
  if (any_hosts && !config.public_.http && !config.public_.https) {
    return error("public", "at least one of http and https is required (tunnels have hosts)");
  }
  std::map<std::string, std::string, std::less<>> tcp_owner;  // "host:port" -> tunnel name

  std::map<std::string, std::string, std::less<>> host_owner;  // host -> tunnel name
  std::set<std::string, std::less<>> names;
  std::map<std::string, std::string, std::less<>> envoy_owner;  // cluster id -> tunnel name
  std::map<std::string, std::string, std::less<>> group_owner;  // reverst group -> tunnel name
  for (const TunnelConfig& tunnel : config.tunnels) {
    const std::string prefix = "tunnels." + tunnel.name;
    if (!is_valid_identity(tunnel.name)) {
      return error(prefix, "tunnel name must be 1-63 characters of [A-Za-z0-9._-]");
    }
    if (!names.insert(tunnel.name).second) return error(prefix, "duplicate tunnel name");
    if (tunnel.hosts.empty() && tunnel.tcp.empty() && !tunnel.allocate) {
      return error(prefix + ".hosts", "at least one host or tcp port (or allocate) is required");
    }
    if (tunnel.allocate) {
      if (auto e = check_allocate(prefix + ".allocate", *tunnel.allocate)) return e;
    }
    for (std::size_t i = 0; i < tunnel.tcp.size(); ++i) {
      if (tunnel.tcp[i].port == 0) continue;  // any free port: never the same twice
      const auto [it, inserted] = tcp_owner.emplace(to_string(tunnel.tcp[i]), tunnel.name);
      if (!inserted) {
        return error(indexed(prefix + ".tcp", i), "tcp port " + to_string(tunnel.tcp[i]) +
                                                      " is already used by tunnel " + it->second);
      }
    }
    if (tunnel.tcp_idle_timeout.count() <= 0) {
      return error(prefix + ".tcp_idle_timeout", "must be positive");
    }
    for (std::size_t i = 0; i < tunnel.hosts.size(); ++i) {
      const std::string& host = tunnel.hosts[i];
      if (!is_valid_host_pattern(host)) {
        return error(indexed(prefix + ".hosts", i),
                     "invalid host \"" + host + "\": expected a lower-case DNS name or *.name");
      }
      const auto [it, inserted] = host_owner.emplace(host, tunnel.name);
      if (!inserted) {
        return error(indexed(prefix + ".hosts", i),
                     "host \"" + host + "\" is already used by tunnel " + it->second);
      }
    }
    const bool scoped = tunnel.allocate &&
                        (!tunnel.allocate->tokens.empty() || !tunnel.allocate->token_files.empty());
    if (auto e = check_auth(prefix + ".auth", tunnel.auth, config.agents, scoped)) return e;
    if (tunnel.hash_key.source != HashKey::Source::client_ip) {
      if (tunnel.balance != BalancePolicy::hash) {
        return error(prefix + ".hash_key", "needs balance: hash");
      }
      if (!is_header_name(to_lower_ascii(tunnel.hash_key.name))) {
        return error(prefix + ".hash_key",
                     "\"" + tunnel.hash_key.name + "\" is not a header or cookie name");
      }
    }
    if (!is_valid_identity(tunnel.tenant)) {
      return error(prefix + ".tenant", "must be 1-63 characters of [A-Za-z0-9._-]");
    }
    if (const auto& routing = tunnel.identity_routing) {
      for (const auto& [key, name] : {std::pair{".node_header", &routing->node_header},
                                      std::pair{".cluster_header", &routing->cluster_header}}) {
        if (!is_header_name(*name)) {
          return error(prefix + ".identity_routing" + key,
                       "\"" + *name + "\" is not an HTTP header name");
        }
      }
      if (routing->node_header == routing->cluster_header) {
        return error(prefix + ".identity_routing.cluster_header", "must differ from node_header");
      }
    }
    const std::vector<std::string> own_name{tunnel.name};
    const auto& clusters = tunnel.envoy_clusters.empty() ? own_name : tunnel.envoy_clusters;
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      const std::string key =
          tunnel.envoy_clusters.empty() ? prefix : indexed(prefix + ".envoy_clusters", i);
      if (!is_valid_identity(clusters[i])) {
        return error(key, "cluster id must be 1-63 characters of [A-Za-z0-9._-]");
      }
      const auto [it, inserted] = envoy_owner.emplace(clusters[i], tunnel.name);
      if (!inserted) {
        return error(key, "envoy cluster id \"" + clusters[i] + "\" is already used by tunnel " +
                              it->second);
      }
    }
    const std::string& group = tunnel.reverst_group_name();
    if (!is_valid_identity(group)) {
      return error(prefix + ".reverst_group",
                   "reverst group must be 1-63 characters of [A-Za-z0-9._-]");
    }
    const auto [owner, inserted] = group_owner.emplace(group, tunnel.name);
    if (!inserted) {
      // A tunnel without the key claims its own name, which may be what
      // another tunnel wrote.
      const bool defaulted = group == tunnel.name;
      return error(prefix + ".reverst_group", "reverst group \"" + group + "\"" +
                                                  (defaulted ? " (the tunnel's name)" : "") +
                                                  " is already used by tunnel " + owner->second);
    }
  }
  return check_allocations(config.tunnels);
}

}  // namespace dialback
