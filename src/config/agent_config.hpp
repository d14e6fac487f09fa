// Configuration of `dialback agent` (docs/configuration.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "config/config_error.hpp"
#include "config/edge_address.hpp"
#include "config/flow_windows.hpp"
#include "config/listen_address.hpp"
#include "config/proxy_url.hpp"
#include "config/quic_settings.hpp"
#include "config/upstream_url.hpp"
#include "core/allocation_request.hpp"

namespace dialback {

// How an agent session reaches the edge (docs/protocol.md §1; envoy: §9).
// h3: QUIC to the edge's agents.quic listener. automatic (written "auto"):
// h3, falling back to h2 (AutoTransportConfig). reverst: Reverst's protocol
// over QUIC; the tunnel name is the Reverst tunnel group. poll: HTTPS/1.1
// long-poll requests (§12), for networks where only those get through.
enum class AgentTransport { h2, rhttp, envoy, h3, automatic, reverst, poll };

// The config and CLI words: "h2", "rhttp", "envoy", "h3", "auto", "reverst", "poll".
std::string_view to_string(AgentTransport transport) noexcept;
std::optional<AgentTransport> parse_agent_transport(std::string_view text) noexcept;

// When `transport: auto` uses h3 and when h2 (the agent's quic section).
struct AutoTransportConfig {
  // How long a dial waits for the QUIC handshake before using h2 instead.
  std::chrono::milliseconds fallback_after{std::chrono::seconds(3)};
  // While on h2, how often h3 is tried again.
  std::chrono::milliseconds probe_interval{std::chrono::minutes(5)};

  friend bool operator==(const AutoTransportConfig&, const AutoTransportConfig&) = default;
};

// Identity headers sent at registration (docs/protocol.md §2).
struct AgentIdentityConfig {
  std::string node;     // the loader defaults it to "<hostname>-<pid>"
  std::string cluster;  // empty: the agent uses the tunnel name
  std::string tenant = "default";
  std::vector<std::pair<std::string, std::string>> labels;  // in file order
  // Where node, cluster and tenant were set explicitly: "agent.node" (the
  // loader) or "--node" (the CLI); empty: a default, or the value named by
  // rc:// edge addresses (apply_address_identities).
  AddressIdentity set_by;
};

// One edge to dial.
struct EdgeTargetConfig {
  std::string host;
  std::uint16_t port = 0;
  int connections = 2;  // sessions kept open to this edge, 1-64
  AgentTransport transport = AgentTransport::h2;
  std::string server_name;  // empty: use host
  // UDP port of the edge's QUIC listener for h3, auto and reverst; 0: `port`.
  std::uint16_t quic_port = 0;
  // From an rc:// address: the node, cluster and tenant it names (empty
  // parts: not named), which must equal the agent's. Its COUNT is already in
  // `connections`; `rc` says the address was written so.
  bool rc = false;
  AddressIdentity address_identity;

  // The name for SNI and certificate verification.
  const std::string& tls_name() const noexcept { return server_name.empty() ? host : server_name; }
};

// The HTTP proxy that the TCP transports (h2, rhttp, envoy, poll) dial edges
// through with CONNECT; QUIC is UDP and never uses it (docs/configuration.md,
// "Proxies").
struct AgentProxyConfig {
  std::optional<ProxyUrl> url;  // nullopt: dial directly
  // Where the setting came from, for logs and errors: "proxy" (the file),
  // "--proxy", or the environment variable's name; empty: not set. Set
  // with no url: proxying turned off explicitly (an empty value).
  std::string source;
  std::string no_proxy;  // hosts dialed directly (NoProxyList's syntax)
};

// The `poll` transport's requests in flight at once (the agent's poll
// section): `next` long-polls bring the edge's bytes and `send` requests
// carry the agent's, each on an HTTPS connection of its own, so that one
// slow batch does not hold up the others (docs/protocol.md §12).
struct PollSettings {
  static constexpr int kMostRequests = 16;
  int next_requests = 2;
  int send_requests = 2;
};

// One local service and the request paths it serves (docs/configuration.md,
// "Agent routes"). The request path is passed on unchanged: the prefix is
// not stripped (the upstream URL's base path is still prepended).
struct AgentRoute {
  std::string prefix = "/";  // "/" or "/seg[/seg...]" without a trailing '/'
  UpstreamUrl upstream;
  bool h2c = false;          // speak HTTP/2 without TLS to the service (prior knowledge)
  std::string host_rewrite;  // Host sent to the service; empty: keep the public Host

  friend bool operator==(const AgentRoute&, const AgentRoute&) = default;
};

// The header a raw TCP target gets ahead of the public client's bytes.
enum class ProxyProtocol { none, v2 };

// A raw TCP target (docs/protocol.md §13): the local address that every
// plain CONNECT stream of the tunnel is relayed to.
struct AgentTcpTarget {
  ListenAddress address;
  // v2: a PROXY protocol v2 header naming the public client and the edge's
  // port, so that the service learns who connected.
  ProxyProtocol proxy_protocol = ProxyProtocol::none;

  friend bool operator==(const AgentTcpTarget&, const AgentTcpTarget&) = default;
};

struct AgentConfig {
  AgentIdentityConfig agent;
  std::string tunnel;
  std::string token;       // the credential: `token`, or the trimmed contents of `token_file`
  std::string token_file;  // where `token` was read from; empty when given inline
  // HTTP Basic instead of a token (not both): `user` and the trimmed
  // contents of `password_file` (or DIALBACK_PASSWORD, applied by the CLI).
  std::string user;
  std::string password;
  std::string password_file;  // where `password` was read from; empty otherwise
  std::string ca;          // CA bundle to verify the edge; empty: system roots
  std::string cert;        // client certificate (mTLS); set together with key
  std::string key;
  std::vector<EdgeTargetConfig> edges;
  // Longest matching prefix wins. The `upstream:` key (or the URL flag) is
  // one route with prefix "/".
  std::vector<AgentRoute> routes;
  // `tcp:` (or --tcp): raw TCP streams go here; without it they are refused.
  // An agent has routes, a tcp target or both.
  std::optional<AgentTcpTarget> tcp;
  // `allocate: {port: auto|N, host: auto|label}` (or --port, --host): what
  // the agent asks its edges to hand out at registration (protocol.md §14).
  AllocationRequest allocation;
  std::chrono::milliseconds upstream_connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds upstream_response_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds ping_interval{std::chrono::seconds(15)};
  std::chrono::milliseconds ping_timeout{std::chrono::seconds(10)};
  FlowWindows windows;  // stream_window, connection_window: what an edge may send ahead
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(30)};
  // The quic section: QUIC tunables for the h3, auto and reverst transports
  // (windows default to `windows`), and when auto falls back
  // (quic.fallback_after, quic.probe_interval).
  QuicSettings quic;
  AutoTransportConfig auto_transport;
  AgentProxyConfig proxy;
  PollSettings poll;
};

// Loads and validates an agent config file. Relative paths (token_file,
// password_file, ca, cert, key) are resolved against the directory of
// `path`; token_file and password_file are read here. DIALBACK_TOKEN and
// DIALBACK_PASSWORD are not consulted (the CLI applies them).
tl::expected<AgentConfig, ConfigError> load_agent_config(const std::string& path);

// Same from a string; see load_edge_config_from_string.
tl::expected<AgentConfig, ConfigError> load_agent_config_from_string(std::string_view yaml,
                                                                     std::string file_label,
                                                                     std::filesystem::path base_dir = {});

// Reads a token file: contents with surrounding whitespace removed; empty or
// unreadable is an error with key "token_file" (file and line left empty,
// for the CLI's --token-file).
tl::expected<std::string, ConfigError> read_token_file(const std::string& path);

// The same for any one-secret file (password_file): `key` names it in errors.
tl::expected<std::string, ConfigError> read_secret_file(const std::string& path,
                                                        const std::string& key);

// Sets each of config.agent's node, cluster and tenant that an rc:// address
// of config.edges names. A part set explicitly (config.agent.set_by names
// where) and named by an edge, or named by two edges, must be the same value:
// otherwise the error has the key `edge_key(i)` of the later edge and a
// message naming the other source.
std::optional<ConfigError> apply_address_identities(AgentConfig& config,
                                                    std::string (*edge_key)(std::size_t index));

// Checks every rule that does not need the file (identities, edges,
// cert/key pairing, rhttp needs a client certificate, routes, token and
// user not both, a password only with a user, the bounds of the quic
// section). A missing token is not an error: mTLS may be the credential,
// and the CLI may add one; nor is a user without a password yet (the CLI
// may add DIALBACK_PASSWORD and then requires one). The error has an empty
// file, line 0 and the dotted key.
std::optional<ConfigError> validate_agent_config(const AgentConfig& config);

}  // namespace dialback
