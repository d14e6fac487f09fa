// Configuration of `dialback edge` (docs/configuration.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/balance_policy.hpp"
#include "config/config_error.hpp"
#include "config/external_auth_url.hpp"
#include "config/flow_windows.hpp"
#include "config/listen_address.hpp"
#include "config/outlier_policy.hpp"
#include "config/quic_settings.hpp"
#include "core/ip_network.hpp"
#include "core/token_bucket.hpp"

namespace dialback {

struct EdgeSection {
  std::string id;  // identity sent as Dialback-Edge; the loader defaults it to the host name
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(30)};
};

// Rate limits on the agent listener (docs/configuration.md): TLS handshakes
// per source address and in total (over them the connection is closed
// before the handshake), and failed registrations per source address (over
// it the edge answers 429 without checking the credentials). The defaults
// let 1 000 agents behind one address reconnect at once.
struct AgentLimits {
  RateLimit handshakes_per_ip{100, 2000};
  RateLimit handshakes{1000, 10000};
  RateLimit failures_per_ip{1, 20};
};

// The QUIC (UDP) listener that agents may dial besides the TLS one: the
// h3 transport, and Reverst clients (tunnels.<name>.reverst_group). It
// uses the TLS files, client CA, limits and registration rules of the
// enclosing AgentListenerConfig.
struct QuicListenerConfig {
  ListenAddress listen;
  QuicSettings settings;  // windows default to agents.windows
  // Every new connection must first complete a Retry round trip (RFC 9000
  // §8.1.2): the source address is proven before the edge keeps state for
  // the connection, at the cost of one round trip. Off by default.
  bool retry = false;
  std::size_t max_connections = 10000;  // open at once on this listener; more are refused
};

// The TLS listener that agents dial.
struct AgentListenerConfig {
  ListenAddress listen{"0.0.0.0", 8443};
  std::string cert;       // PEM certificate chain (absolute after loading a file)
  std::string key;        // PEM private key
  std::string client_ca;  // empty: no client certificates; else request and verify them (mTLS)
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds ping_interval{std::chrono::seconds(15)};
  std::chrono::milliseconds ping_timeout{std::chrono::seconds(10)};
  int max_sessions_per_tunnel = 1000;
  FlowWindows windows;  // stream_window, connection_window: what an agent may send ahead
  // A response head (or trailers) from an agent over this: 502 to the client.
  std::size_t max_response_header_bytes = 64u << 10;
  AgentLimits limits;
  // Sessions whose streams keep failing in the tunnel are left out of
  // balancing for a while (on by default).
  OutlierPolicy outlier_detection;
  // agents.quic; absent: no QUIC listener.
  std::optional<QuicListenerConfig> quic;
};

struct HttpsListenerConfig {
  ListenAddress listen;
  std::string cert;
  std::string key;
};

// Limits per public client (docs/configuration.md).
struct PublicLimits {
  // Per HTTP/2 connection: streams the client resets before their response
  // ended (rapid reset); past it GOAWAY ENHANCE_YOUR_CALM. On by default.
  RateLimit stream_resets{20, 200};
  // Per client address; 0 / off: no limit (the default). Over them: 429.
  std::size_t connections_per_ip = 0;
  RateLimit requests_per_ip;
};

// public.h3: HTTP/3 for public clients, on UDP, with public.https's
// certificate and key; HTTPS responses advertise it (Alt-Svc).
struct PublicH3Config {
  ListenAddress listen;
  bool retry = false;                   // as agents.quic.retry
  std::size_t max_connections = 10000;  // open at once on this listener; more are ignored
};

// Public listeners; at least one of http and https is set.
struct PublicConfig {
  std::optional<ListenAddress> http;
  std::optional<HttpsListenerConfig> https;
  // HTTP/3 (UDP) listener; needs https, whose certificate and key it serves.
  std::optional<PublicH3Config> h3;
  // Time for the agent to produce response headers; 504 after.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  // Request head limits (request line + fields + blank line); 431 over them.
  std::size_t max_header_bytes = 64u << 10;
  std::size_t max_header_fields = 100;
  // Request body limit; 0: unlimited. 413 (see docs/configuration.md).
  std::uint64_t max_body_bytes = 0;
  // Whole request head, from the first byte (or the accept); 408 after.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // Between keep-alive requests; the connection closes silently after it.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // No bytes either way on a forwarded exchange: 504 before the response, close after.
  std::chrono::milliseconds stream_idle_timeout{std::chrono::minutes(5)};
  // A response that declared a body length and sent no body byte this long
  // after its head is cut off (shorter than stream_idle_timeout).
  std::chrono::milliseconds first_byte_timeout{std::chrono::seconds(30)};
  // HTTP/2 clients: streams at once per connection, and what they may send ahead.
  std::uint32_t max_concurrent_streams = 100;
  FlowWindows windows;
  PublicLimits limits;
  // Peers whose X-Forwarded-*, Forwarded and X-Real-IP are believed and
  // extended; from anyone else they are replaced. Empty: nobody.
  std::vector<IpNetwork> trusted_proxies;
  // A trusted peer's X-Forwarded-Host chooses the tunnel (behind a load balancer).
  bool route_by_forwarded_host = false;
  // Error pages name the tunnel and host (for development); else only the hop.
  bool verbose_errors = false;
};

// One accepted HTTP Basic pair.
struct BasicAuthEntry {
  std::string username;  // printable ASCII without ':'
  std::string password;  // "sha256:<64 lower-case hex>" or the plain password
};

// A file of tokens (config/token_list_file.hpp), read when the config loads.
struct TokenFileConfig {
  std::string path;                 // absolute after loading a file
  std::vector<std::string> tokens;  // its entries, as auth.tokens entries

  friend bool operator==(const TokenFileConfig&, const TokenFileConfig&) = default;
};

// Asks an HTTP endpoint about a credential no local entry accepts
// (docs/configuration.md, "External credential check").
struct ExternalAuthConfig {
  ExternalAuthUrl url;
  std::chrono::milliseconds timeout{std::chrono::seconds(2)};  // connect + request + answer
  std::chrono::milliseconds cache{std::chrono::seconds(30)};   // 200/401/403 kept; 0: no cache
};

// Credentials accepted for a tunnel; at least one of tokens, token_files,
// basic, client_names and external.
struct TunnelAuthConfig {
  std::vector<std::string> tokens;        // "sha256:<64 lower-case hex>" or a plain token
  std::vector<std::string> client_names;  // client certificate CN or SAN; needs agents.client_ca
  std::vector<TokenFileConfig> token_files;
  std::vector<BasicAuthEntry> basic;
  std::optional<ExternalAuthConfig> external;
};

// Public requests may choose the agent by identity headers (off unless the
// tunnel has an identity_routing section, so that public clients cannot
// steer traffic unless the operator says so).
struct IdentityRoutingConfig {
  std::string node_header = "dialback-node";        // pins one node (503 when it has no session)
  std::string cluster_header = "dialback-cluster";  // balances over that cluster's nodes
  bool strip = true;  // remove both headers before the request travels on

  friend bool operator==(const IdentityRoutingConfig&, const IdentityRoutingConfig&) = default;
};

// Ports and host names the tunnel hands out to agents that ask for them at
// registration (docs/protocol.md §14).
struct AllocateConfig {
  std::uint16_t first_port = 0;  // `ports: 9000-9099` (or one port); 0: no ports
  std::uint16_t last_port = 0;
  std::string hosts;             // "*.dev.example.test"; empty: no host names
  std::string bind = "0.0.0.0";  // the address allocated ports listen on
  std::chrono::milliseconds lease{std::chrono::minutes(5)};  // kept after the last session
  bool evict_idle = false;  // `evict: idle`: when full, take the longest idle agent's
  std::chrono::milliseconds idle_after{std::chrono::seconds(30)};  // idle: no traffic this long
  // Credentials scoped to allocation: an agent admitted with one of these
  // must ask for a port or host name and serves only what it leased, never
  // the tunnel's configured hosts and tcp ports. Same forms as auth.tokens
  // and auth.token_files.
  std::vector<std::string> tokens;
  std::vector<TokenFileConfig> token_files;

  friend bool operator==(const AllocateConfig&, const AllocateConfig&) = default;
};

struct TunnelConfig {
  std::string name;                // identity rule (1-63 of [A-Za-z0-9._-])
  std::vector<std::string> hosts;  // lower-case DNS names or "*." + DNS name, unique across tunnels
  // Public TCP ports whose connections become raw TCP streams to the
  // tunnel's agents (docs/protocol.md §13). A bare port binds every IPv4
  // interface. A tunnel has hosts, tcp ports or both.
  std::vector<ListenAddress> tcp;
  // A raw TCP connection that moves no byte either way this long is closed.
  std::chrono::milliseconds tcp_idle_timeout{std::chrono::hours(1)};
  std::optional<AllocateConfig> allocate;
  TunnelAuthConfig auth;
  BalancePolicy balance = BalancePolicy::least_inflight;
  HashKey hash_key;  // for balance: hash
  // The tenant that owns the tunnel: agents of another tenant are refused (403).
  std::string tenant = "default";
  std::optional<IdentityRoutingConfig> identity_routing;
  // Cluster ids an agent using the Envoy handshake may name to register with
  // this tunnel; empty: the tunnel's name. Unique across tunnels.
  std::vector<std::string> envoy_clusters;
  // The Reverst tunnel group that Reverst clients name to register with this
  // tunnel. The loader defaults it to the tunnel's name; unique across tunnels.
  std::string reverst_group;

  // reverst_group, or the tunnel's name when it is empty (set in code).
  const std::string& reverst_group_name() const noexcept {
    return reverst_group.empty() ? name : reverst_group;
  }
};

// The DevTunnel-compatible front end (docs/devtunnel.md): DevTunnel's
// clients register, long-poll and answer over plain HTTP/1.1 on `listen`;
// each registered user gets a public HTTP listener on a port of
// first_port-last_port bound on `bind`. Its users are sessions of the
// tunnel named `tunnel` (access log, counters, routing).
struct DevTunnelConfig {
  ListenAddress listen;
  std::uint16_t first_port = 9000;
  std::uint16_t last_port = 9004;
  std::string bind = "0.0.0.0";
  std::string tunnel = "devtunnel";  // not one of `tunnels`
  // Who may use the client wire (it carries no credential); empty: anyone.
  std::vector<IpNetwork> allow;
  std::chrono::milliseconds poll_timeout{std::chrono::seconds(30)};     // 204 after
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // 503 TIMEOUT after
  std::chrono::milliseconds offline_after{std::chrono::seconds(30)};    // 503 OFFLINE after
  std::size_t queue = 200;  // requests waiting per user; 503 OVERFLOW beyond
  // Bodies are buffered whole, each way: a public request body over this
  // gets 413, a raw response (POST /data) over it 413 to the client.
  std::uint64_t max_body_bytes = 64u << 20;
};

struct EdgeConfig {
  EdgeSection edge;
  AgentListenerConfig agents;
  PublicConfig public_;
  std::vector<TunnelConfig> tunnels;  // in file order
  std::optional<DevTunnelConfig> devtunnel;
};

// Loads and validates an edge config file. Relative paths in it (cert, key,
// client_ca) are resolved against the directory of `path`, and errors carry
// `path` as given.
tl::expected<EdgeConfig, ConfigError> load_edge_config(const std::string& path);

// Same from a string (tests, embedding). `file_label` names the source in
// errors; relative paths are resolved against `base_dir`, or kept as written
// when it is empty.
tl::expected<EdgeConfig, ConfigError> load_edge_config_from_string(std::string_view yaml,
                                                                   std::string file_label,
                                                                   std::filesystem::path base_dir = {});

// Checks every rule that does not need the file (identities, hosts, tokens,
// cross-field rules). Used by the loader, and by the CLI again after
// applying flags. The error has an empty file, line 0 and the dotted key.
std::optional<ConfigError> validate_edge_config(const EdgeConfig& config);

}  // namespace dialback
