// Semantic rules of the agent config, checked on the struct so that values
// from flags are held to the same rules as values from the file.
#include <set>

#include "config/agent_config.hpp"
#include "config/config_rules.hpp"
#include "config/listen_address.hpp"

namespace dialback {
namespace {

constexpr int kMaxConnectionsPerEdge = 64;
// transport: auto. A fallback wait past a minute leaves an agent without a
// session for that long; probes more often than every second would be a
// flood of handshakes, and a day keeps timer arithmetic far from overflow.
constexpr std::chrono::milliseconds kLongestFallback = std::chrono::minutes(1);
constexpr std::chrono::milliseconds kShortestProbeInterval = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kLongestProbeInterval = std::chrono::hours(24);
constexpr std::string_view kIdentityRule = "must be 1-63 characters of [A-Za-z0-9._-]";

ConfigError error(std::string key, std::string_view message) {
  return ConfigError{"", 0, std::move(key), std::string(message)};
}

std::optional<ConfigError> check_identity(const AgentIdentityConfig& agent) {
  if (!is_valid_identity(agent.node)) return error("agent.node", kIdentityRule);
  if (!agent.cluster.empty() && !is_valid_identity(agent.cluster))
    return error("agent.cluster", kIdentityRule);
  if (!is_valid_identity(agent.tenant)) return error("agent.tenant", kIdentityRule);
  std::set<std::string_view> keys;
  for (const auto& [key, value] : agent.labels) {
    const std::string path = "agent.labels." + key;
    if (!is_valid_identity(key)) return error(path, "label name " + std::string(kIdentityRule));
    if (!keys.insert(key).second) return error(path, "duplicate label");
    if (!is_valid_identity(value)) return error(path, "label value " + std::string(kIdentityRule));
  }
  return std::nullopt;
}

// The agent's node, cluster or tenant and the same part of an rc:// address.
struct IdentityPart {
  const char* name;
  std::string AgentIdentityConfig::*agent;
  std::string AddressIdentity::*part;
};

constexpr IdentityPart kIdentityParts[] = {
    {"node", &AgentIdentityConfig::node, &AddressIdentity::node},
    {"cluster", &AgentIdentityConfig::cluster, &AddressIdentity::cluster},
    {"tenant", &AgentIdentityConfig::tenant, &AddressIdentity::tenant},
};

std::optional<ConfigError> check_edges(const AgentConfig& config) {
  if (config.edges.empty()) return error("edges", "at least one edge is required");
  const bool has_client_cert = !config.cert.empty() && !config.key.empty();
  for (std::size_t i = 0; i < config.edges.size(); ++i) {
    const EdgeTargetConfig& edge = config.edges[i];
    const std::string prefix = "edges[" + std::to_string(i) + "]";
    if (edge.host.empty() || edge.port == 0)
      return error(prefix + ".address", "expected host:port with a port from 1 to 65535");
    if (edge.connections < 1 || edge.connections > kMaxConnectionsPerEdge) {
      return error(prefix + ".connections", "must be from 1 to " + std::to_string(kMaxConnectionsPerEdge));
    }
    if (!edge.server_name.empty() && !is_printable_token(edge.server_name)) {
      return error(prefix + ".server_name", "must be printable ASCII without spaces");
    }
    if (edge.transport == AgentTransport::rhttp && !has_client_cert) {
      return error(prefix + ".transport", "rhttp needs a client certificate (cert and key)");
    }
    for (const IdentityPart& part : kIdentityParts) {
      const std::string& named = edge.address_identity.*part.part;
      const std::string& actual = config.agent.*part.agent;
      if (!named.empty() && named != actual) {
        return error(prefix + ".address", "the rc:// address names " + std::string(part.name) +
                                              " \"" + named + "\" but the agent's " + part.name +
                                              " is \"" + actual + "\"");
      }
    }
  }
  return std::nullopt;
}

// Why `prefix` is not a route path, or nullopt. A trailing '/' is refused
// rather than normalized: matching is on segment boundaries, so "/api"
// already covers "/api/..." and "/api/" would silently not match "/api".
std::optional<std::string> check_route_prefix(const std::string& prefix) {
  const std::string quoted = "\"" + prefix + "\"";
  if (!prefix.starts_with('/')) return "route path " + quoted + " must start with '/'";
  if (!is_printable_token(prefix) || prefix.find_first_of("?#") != std::string::npos) {
    return "route path " + quoted + " must be printable ASCII without spaces, '?' or '#'";
  }
  if (prefix.size() > 1 && prefix.ends_with('/')) {
    return "route path " + quoted + " must not end with '/' (\"/api\" already matches \"/api/...\")";
  }
  return std::nullopt;
}

// A Host value: a name or address with an optional port, nothing else.
bool is_valid_host_rewrite(const std::string& host) {
  return is_printable_token(host) && host.find_first_of("/?#@,\\") == std::string::npos;
}

std::optional<ConfigError> check_routes(const AgentConfig& config) {
  if (config.routes.empty() && !config.tcp) {
    return error("routes", "at least one route (or upstream, or tcp) is required");
  }
  std::set<std::string_view> prefixes;
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const AgentRoute& route = config.routes[i];
    const std::string key = "routes[" + std::to_string(i) + "]";
    if (auto why = check_route_prefix(route.prefix)) return error(key + ".path", *why);
    if (!prefixes.insert(route.prefix).second) {
      return error(key + ".path", "duplicate route path \"" + route.prefix + "\"");
    }
    if (route.upstream.host.empty()) return error(key + ".upstream", "required");
    if (!route.host_rewrite.empty() && !is_valid_host_rewrite(route.host_rewrite)) {
      return error(key + ".host", "expected a host name with an optional :port");
    }
  }
  return std::nullopt;
}

// HTTP Basic: a user name that fits "user:password", a password only with a
// user, never together with a token.
std::optional<ConfigError> check_basic(const AgentConfig& config) {
  if (config.user.empty()) {
    if (!config.password.empty() || !config.password_file.empty()) {
      return error(config.password_file.empty() ? "password" : "password_file",
                   "a password needs user");
    }
    return std::nullopt;
  }
  if (!is_printable_token(config.user) || config.user.find(':') != std::string::npos) {
    return error("user", "must be printable ASCII without spaces or ':'");
  }
  if (!config.token.empty()) return error("user", "token and user are mutually exclusive");
  if (!config.password.empty() && !is_printable_token(config.password)) {
    return error(config.password_file.empty() ? "password" : "password_file",
                 "the password must be printable ASCII without spaces");
  }
  return std::nullopt;
}

std::optional<ConfigError> check_timeouts(const AgentConfig& config) {
  const std::pair<const char*, std::chrono::milliseconds> positive[] = {
      {"upstream_connect_timeout", config.upstream_connect_timeout},
      {"upstream_response_timeout", config.upstream_response_timeout},
      {"ping_interval", config.ping_interval},
      {"ping_timeout", config.ping_timeout},
  };
  for (const auto& [key, value] : positive) {
    if (value.count() <= 0) return error(key, "must be greater than zero");
  }
  if (config.drain_timeout.count() < 0) return error("drain_timeout", "must not be negative");
  return validate_flow_windows(config.windows, "");
}

// Checked whatever the edges' transports, so that a flag switching one to
// h3 or auto cannot bring in a value never checked.
std::optional<ConfigError> check_quic(const AgentConfig& config) {
  if (auto e = validate_quic_settings(config.quic, "quic.")) return e;
  const AutoTransportConfig& auto_transport = config.auto_transport;
  if (auto_transport.fallback_after.count() <= 0 ||
      auto_transport.fallback_after > kLongestFallback) {
    return error("quic.fallback_after", "must be greater than zero and at most 1m");
  }
  if (auto_transport.probe_interval < kShortestProbeInterval ||
      auto_transport.probe_interval > kLongestProbeInterval) {
    return error("quic.probe_interval", "must be from 1s to 24h");
  }
  return std::nullopt;
}

std::optional<ConfigError> check_poll(const PollSettings& poll) {
  const std::pair<const char*, int> counts[] = {{"poll.next_requests", poll.next_requests},
                                                {"poll.send_requests", poll.send_requests}};
  for (const auto& [key, value] : counts) {
    if (value < 1 || value > PollSettings::kMostRequests) {
      return error(key, "must be from 1 to " + std::to_string(PollSettings::kMostRequests));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> apply_address_identities(AgentConfig& config,
                                                    std::string (*edge_key)(std::size_t index)) {
  for (const IdentityPart& part : kIdentityParts) {
    std::string& value = config.agent.*part.agent;
    std::string source = config.agent.set_by.*part.part;  // empty: value is a default
    bool from_edge = false;
    std::size_t source_edge = 0;
    for (std::size_t i = 0; i < config.edges.size(); ++i) {
      const std::string& named = config.edges[i].address_identity.*part.part;
      if (named.empty()) continue;
      const std::string key = edge_key(i);
      if (source.empty()) {
        value = named;
        source = key;
        from_edge = true;
        source_edge = i;
      } else if (named != value) {
        const auto address = [&config](std::size_t index) {
          return to_string(ListenAddress{config.edges[index].host, config.edges[index].port});
        };
        std::string message = "the rc:// address for " + address(i) + " names " + part.name +
                              " \"" + named + "\" but ";
        if (!from_edge) {
          message += source + " is \"" + value + "\"";
        } else if (source == key) {
          message += "the " + source + " for " + address(source_edge) + " names \"" + value + "\"";
        } else {
          message += source + " names \"" + value + "\"";
        }
        return error(key, message + " (node, cluster and tenant are agent-wide)");
      }
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> validate_agent_config(const AgentConfig& config) {
  if (auto e = check_identity(config.agent)) return e;
  if (config.tunnel.empty()) return error("tunnel", "required");
  if (!is_valid_identity(config.tunnel)) return error("tunnel", kIdentityRule);
  if (!config.token.empty() && !is_printable_token(config.token)) {
    return error(config.token_file.empty() ? "token" : "token_file",
                 "the token must be printable ASCII without spaces");
  }
  if (auto e = check_basic(config)) return e;
  if (!config.cert.empty() && config.key.empty()) return error("cert", "cert and key must be given together");
  if (config.cert.empty() && !config.key.empty()) return error("key", "cert and key must be given together");
  if (auto e = check_edges(config)) return e;
  if (auto e = check_routes(config)) return e;
  if (auto e = check_timeouts(config)) return e;
  if (auto e = check_poll(config.poll)) return e;
  return check_quic(config);
}

}  // namespace dialback
