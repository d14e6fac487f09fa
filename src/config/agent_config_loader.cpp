// Reads the agent config document into AgentConfig: keys, types and
// formats. Semantic rules live in agent_config_validate.cpp.

#include "config/agent_config.hpp"
#include "config/config_loader.hpp"
#include "config/config_rules.hpp"

namespace dialback {
namespace {

using namespace config_detail;  // Field, MapReader, ParseContext, read_* helpers

constexpr std::string_view kWhitespace = " \t\r\n\f\v";

void parse_identity(ParseContext& ctx, const Field& field, AgentIdentityConfig& out) {
  MapReader map(ctx, field, {"node", "cluster", "tenant", "labels"});
  if (auto f = map.find("node")) {
    out.node = read_string(ctx, *f);
    out.set_by.node = f->key;
  }
  if (auto f = map.find("cluster")) {
    out.cluster = read_string(ctx, *f);
    out.set_by.cluster = f->key;
  }
  if (auto f = map.find("tenant")) {
    out.tenant = read_string(ctx, *f);
    out.set_by.tenant = f->key;
  }
  if (auto f = map.find("labels")) out.labels = read_string_map(ctx, *f);
}

// `host:port` or `rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT` (edge_address.hpp).
EdgeAddress read_edge_address(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected an address (host:port)");
  auto parsed = parse_edge_address(field.node.Scalar());
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return std::move(*parsed);
}

// An rc:// address's COUNT wins over `connections`; its transport is envoy
// unless `transport` is written.
EdgeTargetConfig parse_edge_target(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"address", "connections", "transport", "server_name", "quic_port"});
  EdgeTargetConfig out;
  EdgeAddress address = read_edge_address(ctx, map.require("address"));
  out.host = std::move(address.host);
  out.port = address.port;
  if (auto f = map.find("connections")) out.connections = read_int(ctx, *f);
  if (address.rc) {
    out.rc = true;
    out.connections = address.count;
    out.transport = AgentTransport::envoy;
    out.address_identity = std::move(address.identity);
  }
  if (auto f = map.find("transport")) {
    const std::string text = read_string(ctx, *f);
    const auto transport = parse_agent_transport(text);
    if (!transport)
      ctx.fail(f->line, f->key,
               "unknown transport \"" + text +
                   "\": expected h2, rhttp, envoy, h3, auto, reverst or poll");
    out.transport = *transport;
  }
  if (auto f = map.find("server_name")) out.server_name = read_string(ctx, *f);
  if (auto f = map.find("quic_port")) {
    const auto port = read_int(ctx, *f);
    if (port < 1 || port > 65535) ctx.fail(f->line, f->key, "must be a port number (1-65535)");
    out.quic_port = static_cast<std::uint16_t>(port);
  }
  return out;
}

UpstreamUrl read_upstream_url(const ParseContext& ctx, const Field& field) {
  auto url = parse_upstream_url(read_string(ctx, field));
  if (!url) ctx.fail(field.line, field.key, url.error());
  return std::move(*url);
}

AgentRoute parse_route(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"path", "upstream", "h2c", "host"});
  AgentRoute out;
  out.prefix = read_string(ctx, map.require("path"));
  out.upstream = read_upstream_url(ctx, map.require("upstream"));
  if (auto f = map.find("h2c")) out.h2c = read_bool(ctx, *f);
  if (auto f = map.find("host")) out.host_rewrite = read_string(ctx, *f);
  return out;
}

// `upstream: URL` is the single route "/"; `routes:` lists them. One of the two.
void parse_routes(ParseContext& ctx, const MapReader& map, AgentConfig& out) {
  const auto upstream = map.find("upstream");
  const auto routes = map.find("routes");
  if (upstream && routes) {
    ctx.fail(routes->line, routes->key,
             "upstream and routes are mutually exclusive (upstream is the route for path /)");
  }
  if (upstream) {
    AgentRoute route;
    route.upstream = read_upstream_url(ctx, *upstream);
    out.routes.push_back(std::move(route));
  } else if (routes) {
    for (const Field& element : read_list(ctx, *routes)) out.routes.push_back(parse_route(ctx, element));
  } else if (!map.find("tcp")) {
    ctx.fail(0, "upstream", "missing required key (or routes, or tcp)");
  }
}

// `allocate: {port: auto|N, host: auto|label}`.
AllocationRequest parse_allocation(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"port", "host"});
  AllocationRequest out;
  if (auto f = map.find("port")) {
    auto kind = parse_port_request(read_string(ctx, *f), out.port);
    if (!kind) ctx.fail(f->line, f->key, "expected auto or a port 1-65535");
    out.port_kind = *kind;
  }
  if (auto f = map.find("host")) {
    auto kind = parse_host_request(read_string(ctx, *f), out.label);
    if (!kind) {
      ctx.fail(f->line, f->key,
               "expected auto or a DNS label (1-63 of a-z, 0-9 and '-', not first or last)");
    }
    out.host_kind = *kind;
  }
  return out;
}

// `tcp: host:port` and `proxy_protocol: none|v2`, which needs it.
void parse_tcp_target(ParseContext& ctx, const MapReader& map, AgentConfig& out) {
  const auto tcp = map.find("tcp");
  const auto proxy_protocol = map.find("proxy_protocol");
  if (!tcp) {
    if (proxy_protocol) ctx.fail(proxy_protocol->line, proxy_protocol->key, "needs tcp");
    return;
  }
  AgentTcpTarget target;
  target.address = read_connect_address(ctx, *tcp);
  if (proxy_protocol) {
    const std::string text = read_string(ctx, *proxy_protocol);
    if (text == "v2") {
      target.proxy_protocol = ProxyProtocol::v2;
    } else if (text != "none") {
      ctx.fail(proxy_protocol->line, proxy_protocol->key,
               "unknown PROXY protocol \"" + text + "\": expected none or v2");
    }
  }
  out.tcp = target;
}

void parse_token(ParseContext& ctx, const MapReader& map, AgentConfig& out) {
  const auto token = map.find("token");
  const auto token_file = map.find("token_file");
  if (token && token_file)
    ctx.fail(token_file->line, token_file->key, "token and token_file are mutually exclusive");
  if (token) {
    out.token = read_string(ctx, *token);
    if (out.token.empty()) ctx.fail(token->line, token->key, "empty token");
  }
  if (token_file) {
    out.token_file = read_path(ctx, *token_file);
    auto contents = read_token_file(out.token_file);
    if (!contents) ctx.fail(token_file->line, token_file->key, contents.error().message);
    out.token = std::move(*contents);
  }
}

// `user` and `password_file`: HTTP Basic instead of a token.
void parse_basic(ParseContext& ctx, const MapReader& map, AgentConfig& out) {
  const auto user = map.find("user");
  const auto password_file = map.find("password_file");
  if (user && (map.find("token") || map.find("token_file"))) {
    ctx.fail(user->line, user->key, "token and user are mutually exclusive");
  }
  if (password_file && !user) {
    ctx.fail(password_file->line, password_file->key, "password_file needs user");
  }
  if (user) {
    out.user = read_string(ctx, *user);
    if (out.user.empty()) ctx.fail(user->line, user->key, "empty user");
  }
  if (password_file) {
    out.password_file = read_path(ctx, *password_file);
    auto contents = read_secret_file(out.password_file, "password_file");
    if (!contents) ctx.fail(password_file->line, password_file->key, contents.error().message);
    out.password = std::move(*contents);
  }
}

// The quic section; `out.windows` (already read) are the defaults of its windows.
void parse_quic(ParseContext& ctx, const Field& field, AgentConfig& out) {
  MapReader map(ctx, field,
                {"idle_timeout", "keep_alive", "handshake_timeout", "max_streams", "windows",
                 "congestion_control", "fallback_after", "probe_interval"});
  read_quic_settings(ctx, map, out.quic);
  if (auto f = map.find("fallback_after")) {
    out.auto_transport.fallback_after = read_duration(ctx, *f);
  }
  if (auto f = map.find("probe_interval")) {
    out.auto_transport.probe_interval = read_duration(ctx, *f);
  }
}

// `proxy: URL`; an empty value turns proxying off (HTTPS_PROXY is then ignored).
void parse_proxy(ParseContext& ctx, const Field& field, AgentProxyConfig& out) {
  const std::string text = read_string(ctx, field);
  out.source = field.key;
  if (text.empty()) return;
  auto url = parse_proxy_url(text);
  if (!url) ctx.fail(field.line, field.key, url.error());
  out.url = std::move(*url);
}

// The poll section: requests in flight per session.
void parse_poll(ParseContext& ctx, const Field& field, PollSettings& out) {
  MapReader map(ctx, field, {"next_requests", "send_requests"});
  if (auto f = map.find("next_requests")) out.next_requests = read_int(ctx, *f);
  if (auto f = map.find("send_requests")) out.send_requests = read_int(ctx, *f);
}

AgentConfig parse_agent_config(ParseContext& ctx, const Field& root) {
  MapReader map(ctx, root,
                {"agent",
                 "tunnel",
                 "token",
                 "token_file",
                 "user",
                 "password_file",
                 "ca",
                 "cert",
                 "key",
                 "edges",
                 "upstream",
                 "routes",
                 "upstream_connect_timeout",
                 "upstream_response_timeout",
                 "ping_interval",
                 "ping_timeout",
                 "drain_timeout",
                 "stream_window",
                 "connection_window",
                 "quic",
                 "proxy",
                 "poll",
                 "tcp",
                 "proxy_protocol",
                 "allocate"});
  AgentConfig out;
  out.agent.node = default_agent_node();
  if (auto f = map.find("agent")) parse_identity(ctx, *f, out.agent);
  out.tunnel = read_string(ctx, map.require("tunnel"));
  parse_token(ctx, map, out);
  parse_basic(ctx, map, out);
  if (auto f = map.find("ca")) out.ca = read_path(ctx, *f);
  if (auto f = map.find("cert")) out.cert = read_path(ctx, *f);
  if (auto f = map.find("key")) out.key = read_path(ctx, *f);
  for (const Field& element : read_list(ctx, map.require("edges"))) {
    out.edges.push_back(parse_edge_target(ctx, element));
  }
  const auto edge_key = [](std::size_t i) { return "edges[" + std::to_string(i) + "].address"; };
  if (auto conflict = apply_address_identities(out, edge_key)) {
    const ConfigError located = ctx.locate(std::move(*conflict));
    ctx.fail(located.line, located.key, located.message);
  }
  parse_routes(ctx, map, out);
  parse_tcp_target(ctx, map, out);
  if (auto f = map.find("allocate")) out.allocation = parse_allocation(ctx, *f);
  if (auto f = map.find("upstream_connect_timeout")) out.upstream_connect_timeout = read_duration(ctx, *f);
  if (auto f = map.find("upstream_response_timeout")) out.upstream_response_timeout = read_duration(ctx, *f);
  if (auto f = map.find("ping_interval")) out.ping_interval = read_duration(ctx, *f);
  if (auto f = map.find("ping_timeout")) out.ping_timeout = read_duration(ctx, *f);
  if (auto f = map.find("drain_timeout")) out.drain_timeout = read_duration(ctx, *f);
  read_flow_windows(ctx, map, out.windows);
  out.quic.windows = out.windows;
  if (auto f = map.find("quic")) parse_quic(ctx, *f, out);
  if (auto f = map.find("proxy")) parse_proxy(ctx, *f, out.proxy);
  if (auto f = map.find("poll")) parse_poll(ctx, *f, out.poll);
  return out;
}

}  // namespace

std::string_view to_string(AgentTransport transport) noexcept {
  switch (transport) {
    case AgentTransport::h2: return "h2";
    case AgentTransport::rhttp: return "rhttp";
    case AgentTransport::envoy: return "envoy";
    case AgentTransport::h3: return "h3";
    case AgentTransport::automatic: return "auto";
    case AgentTransport::reverst: return "reverst";
    case AgentTransport::poll: return "poll";
  }
  return "unknown";
}

std::optional<AgentTransport> parse_agent_transport(std::string_view text) noexcept {
  if (text == "h2") return AgentTransport::h2;
  if (text == "rhttp") return AgentTransport::rhttp;
  if (text == "envoy") return AgentTransport::envoy;
  if (text == "h3") return AgentTransport::h3;
  if (text == "poll") return AgentTransport::poll;
  if (text == "auto") return AgentTransport::automatic;
  if (text == "reverst") return AgentTransport::reverst;
  return std::nullopt;
}

tl::expected<std::string, ConfigError> read_token_file(const std::string& path) {
  return read_secret_file(path, "token_file");
}

tl::expected<std::string, ConfigError> read_secret_file(const std::string& path,
                                                        const std::string& key) {
  auto contents = read_config_file(path);
  if (!contents) {
    return tl::unexpected(ConfigError{"", 0, key, path + ": " + contents.error().message});
  }
  std::string& secret = *contents;
  secret.erase(0, secret.find_first_not_of(kWhitespace));
  secret.erase(secret.find_last_not_of(kWhitespace) + 1);
  if (secret.empty()) {
    const std::string what = key == "token_file"      ? "token"
                             : key == "password_file" ? "password"
                                                      : key;
    return tl::unexpected(ConfigError{"", 0, key, path + ": the " + what + " file is empty"});
  }
  return secret;
}

tl::expected<AgentConfig, ConfigError> load_agent_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text) return tl::unexpected(std::move(text.error()));
  return load_agent_config_from_string(*text, path, config_base_dir(path));
}

tl::expected<AgentConfig, ConfigError> load_agent_config_from_string(std::string_view yaml,
                                                                     std::string file_label,
                                                                     std::filesystem::path base_dir) {
  return load_config<AgentConfig>(yaml, std::move(file_label), std::move(base_dir), parse_agent_config,
                                  validate_agent_config);
}

}  // namespace dialback
