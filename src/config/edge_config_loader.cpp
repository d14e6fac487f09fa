// Reads the edge config document into EdgeConfig: keys, types and formats.
// Semantic rules live in edge_config_validate.cpp.
#include <charconv>

#include "config/config_loader.hpp"
#include "config/config_rules.hpp"
#include "config/edge_config.hpp"
#include "config/token_list_file.hpp"

namespace dialback {
namespace {

using namespace config_detail;  // Field, MapReader, ParseContext, read_* helpers

void parse_edge_section(ParseContext& ctx, const Field& field, EdgeSection& out) {
  MapReader map(ctx, field, {"id", "drain_timeout"});
  if (auto f = map.find("id")) out.id = read_string(ctx, *f);
  if (auto f = map.find("drain_timeout")) out.drain_timeout = read_duration(ctx, *f);
}

AgentLimits parse_agent_limits(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"handshakes_per_ip", "handshakes", "failures_per_ip"});
  AgentLimits out;
  if (auto f = map.find("handshakes_per_ip")) out.handshakes_per_ip = read_rate_limit(ctx, *f);
  if (auto f = map.find("handshakes")) out.handshakes = read_rate_limit(ctx, *f);
  if (auto f = map.find("failures_per_ip")) out.failures_per_ip = read_rate_limit(ctx, *f);
  return out;
}

PublicLimits parse_public_limits(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"stream_resets", "connections_per_ip", "requests_per_ip"});
  PublicLimits out;
  if (auto f = map.find("stream_resets")) out.stream_resets = read_rate_limit(ctx, *f);
  if (auto f = map.find("connections_per_ip")) out.connections_per_ip = read_count(ctx, *f, 0);
  if (auto f = map.find("requests_per_ip")) out.requests_per_ip = read_rate_limit(ctx, *f);
  return out;
}

OutlierPolicy parse_outlier_detection(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"consecutive_failures", "base_ejection", "max_ejection"});
  OutlierPolicy out;
  if (auto f = map.find("consecutive_failures")) {
    const int failures = read_int(ctx, *f);
    if (failures < 0 || failures > 1000) ctx.fail(f->line, f->key, "must be from 0 (off) to 1000");
    out.consecutive_failures = static_cast<std::uint32_t>(failures);
  }
  if (auto f = map.find("base_ejection")) out.base_ejection = read_duration(ctx, *f);
  if (auto f = map.find("max_ejection")) out.max_ejection = read_duration(ctx, *f);
  return out;
}

// `windows` are the defaults of the QUIC windows: agents.stream_window and
// agents.connection_window, already read.
QuicListenerConfig parse_agents_quic(ParseContext& ctx, const Field& field,
                                     const FlowWindows& windows) {
  MapReader map(ctx, field,
                {"listen", "idle_timeout", "keep_alive", "handshake_timeout", "max_streams",
                 "windows", "congestion_control", "retry", "max_connections"});
  QuicListenerConfig out;
  out.listen = read_listen_address(ctx, map.require("listen"));
  out.settings.windows = windows;
  read_quic_settings(ctx, map, out.settings);
  if (auto f = map.find("retry")) out.retry = read_bool(ctx, *f);
  if (auto f = map.find("max_connections")) out.max_connections = read_count(ctx, *f, 0);
  return out;
}

AgentListenerConfig parse_agents(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field,
                {"listen", "cert", "key", "client_ca", "handshake_timeout", "ping_interval",
                 "ping_timeout", "stream_window", "connection_window", "max_sessions_per_tunnel",
                 "max_response_header_bytes", "limits", "outlier_detection", "quic"});
  AgentListenerConfig out;
  if (auto f = map.find("listen")) out.listen = read_listen_address(ctx, *f);
  out.cert = read_path(ctx, map.require("cert"));
  out.key = read_path(ctx, map.require("key"));
  if (auto f = map.find("client_ca")) out.client_ca = read_path(ctx, *f);
  if (auto f = map.find("handshake_timeout")) out.handshake_timeout = read_duration(ctx, *f);
  if (auto f = map.find("ping_interval")) out.ping_interval = read_duration(ctx, *f);
  if (auto f = map.find("ping_timeout")) out.ping_timeout = read_duration(ctx, *f);
  if (auto f = map.find("max_sessions_per_tunnel")) out.max_sessions_per_tunnel = read_int(ctx, *f);
  if (auto f = map.find("max_response_header_bytes")) {
    out.max_response_header_bytes = read_byte_size(ctx, *f);
  }
  if (auto f = map.find("limits")) out.limits = parse_agent_limits(ctx, *f);
  if (auto f = map.find("outlier_detection")) {
    out.outlier_detection = parse_outlier_detection(ctx, *f);
  }
  read_flow_windows(ctx, map, out.windows);
  if (auto f = map.find("quic")) out.quic = parse_agents_quic(ctx, *f, out.windows);
  return out;
}

HttpsListenerConfig parse_https(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"listen", "cert", "key"});
  HttpsListenerConfig out;
  out.listen = read_listen_address(ctx, map.require("listen"));
  out.cert = read_path(ctx, map.require("cert"));
  out.key = read_path(ctx, map.require("key"));
  return out;
}

PublicH3Config parse_h3(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"listen", "retry", "max_connections"});
  PublicH3Config out;
  out.listen = read_listen_address(ctx, map.require("listen"));
  if (auto f = map.find("retry")) out.retry = read_bool(ctx, *f);
  if (auto f = map.find("max_connections")) out.max_connections = read_count(ctx, *f, 0);
  return out;
}

PublicConfig parse_public(ParseContext& ctx, const Field& field) {
  MapReader map(
      ctx, field,
      {"http", "https", "h3", "request_timeout", "max_header_bytes", "max_header_fields",
       "max_body_bytes", "header_timeout", "idle_timeout", "stream_idle_timeout",
       "max_concurrent_streams", "stream_window", "connection_window", "first_byte_timeout",
       "limits", "trusted_proxies", "route_by_forwarded_host", "verbose_errors"});
  PublicConfig out;
  if (auto f = map.find("http")) out.http = read_listen_address(ctx, *f);
  if (auto f = map.find("https")) out.https = parse_https(ctx, *f);
  if (auto f = map.find("h3")) out.h3 = parse_h3(ctx, *f);
  if (auto f = map.find("request_timeout")) out.request_timeout = read_duration(ctx, *f);
  if (auto f = map.find("max_header_bytes")) out.max_header_bytes = read_byte_size(ctx, *f);
  if (auto f = map.find("max_header_fields")) out.max_header_fields = read_count(ctx, *f, 0);
  if (auto f = map.find("max_body_bytes")) out.max_body_bytes = read_byte_size(ctx, *f);
  if (auto f = map.find("header_timeout")) out.header_timeout = read_duration(ctx, *f);
  if (auto f = map.find("idle_timeout")) out.idle_timeout = read_duration(ctx, *f);
  if (auto f = map.find("stream_idle_timeout")) out.stream_idle_timeout = read_duration(ctx, *f);
  if (auto f = map.find("max_concurrent_streams")) {
    out.max_concurrent_streams = static_cast<std::uint32_t>(read_count(ctx, *f, 1));
  }
  read_flow_windows(ctx, map, out.windows);
  if (auto f = map.find("first_byte_timeout")) out.first_byte_timeout = read_duration(ctx, *f);
  if (auto f = map.find("limits")) out.limits = parse_public_limits(ctx, *f);
  if (auto f = map.find("trusted_proxies")) out.trusted_proxies = read_networks(ctx, *f);
  if (auto f = map.find("route_by_forwarded_host")) {
    out.route_by_forwarded_host = read_bool(ctx, *f);
  }
  if (auto f = map.find("verbose_errors")) out.verbose_errors = read_bool(ctx, *f);
  return out;
}

// Hashes compare as lower-case hex.
std::string normalise_secret(std::string secret) {
  return istarts_with(secret, "sha256:") ? to_lower_ascii(secret) : secret;
}

std::vector<BasicAuthEntry> parse_basic(ParseContext& ctx, const Field& field) {
  std::vector<BasicAuthEntry> out;
  for (const Field& element : read_list(ctx, field)) {
    MapReader map(ctx, element, {"username", "password"});
    BasicAuthEntry entry;
    entry.username = read_string(ctx, map.require("username"));
    entry.password = normalise_secret(read_string(ctx, map.require("password")));
    out.push_back(std::move(entry));
  }
  return out;
}

// A list of token entries (plain or "sha256:" hashes), normalised.
std::vector<std::string> read_tokens(ParseContext& ctx, const Field& field) {
  std::vector<std::string> out = read_string_list(ctx, field);
  for (std::string& token : out) token = normalise_secret(std::move(token));
  return out;
}

// Each file is read here, once; its errors name the list entry, the file
// and the line, never a line's text.

std::vector<TokenFileConfig> parse_token_files(ParseContext& ctx, const Field& field) {
  std::vector<TokenFileConfig> out;
  for (const Field& element : read_list(ctx, field)) {
    TokenFileConfig file;
    file.path = read_path(ctx, element);
    auto tokens = read_token_list_file(file.path);
    if (!tokens) ctx.fail(element.line, element.key, tokens.error());
    file.tokens = std::move(*tokens);
    out.push_back(std::move(file));
  }
  return out;
}

ExternalAuthConfig parse_external(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"url", "timeout", "cache"});
  ExternalAuthConfig out;
  const Field url = map.require("url");
  auto parsed = parse_external_auth_url(read_string(ctx, url));
  if (!parsed) ctx.fail(url.line, url.key, parsed.error());
  out.url = std::move(*parsed);
  if (auto f = map.find("timeout")) out.timeout = read_duration(ctx, *f);
  if (auto f = map.find("cache")) out.cache = read_duration(ctx, *f);
  return out;
}

TunnelAuthConfig parse_auth(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field, {"tokens", "client_names", "token_files", "basic", "external"});
  TunnelAuthConfig out;
  if (auto f = map.find("tokens")) out.tokens = read_tokens(ctx, *f);
  if (auto f = map.find("client_names")) out.client_names = read_string_list(ctx, *f);
  if (auto f = map.find("token_files")) out.token_files = parse_token_files(ctx, *f);
  if (auto f = map.find("basic")) out.basic = parse_basic(ctx, *f);
  if (auto f = map.find("external")) out.external = parse_external(ctx, *f);
  return out;
}

IdentityRoutingConfig parse_identity_routing(ParseContext& ctx, const Field& field) {
  IdentityRoutingConfig out;
  // `identity_routing: {}` (or null) turns it on with the defaults.
  if (field.node.IsNull()) return out;
  MapReader map(ctx, field, {"node_header", "cluster_header", "strip"});
  if (auto f = map.find("node_header")) out.node_header = to_lower_ascii(read_string(ctx, *f));
  if (auto f = map.find("cluster_header")) {
    out.cluster_header = to_lower_ascii(read_string(ctx, *f));
  }
  if (auto f = map.find("strip")) out.strip = read_bool(ctx, *f);
  return out;
}

// A public TCP port of a tunnel: a bare port (all IPv4 interfaces) or host:port.
ListenAddress read_tcp_port(const ParseContext& ctx, const Field& field) {
  const std::string text = field.node.IsScalar() ? field.node.Scalar() : "";
  const bool bare = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!bare) return read_listen_address(ctx, field);
  auto parsed = parse_listen_address(":" + text);
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return *parsed;
}

// `ports: 9000-9099`, `ports: 9000` or `ports: "9000"`.
void read_port_range(ParseContext& ctx, const Field& field, AllocateConfig& out) {
  const std::string text = field.node.IsScalar() ? field.node.Scalar() : "";
  const std::size_t dash = text.find('-');
  auto port = [&](std::string_view part) -> std::uint16_t {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc{} || end != part.data() + part.size() || value == 0 || value > 65535) {
      ctx.fail(field.line, field.key,
               "expected a port range FIRST-LAST of ports 1-65535, got \"" + text + "\"");
    }
    return static_cast<std::uint16_t>(value);
  };
  const std::string_view view = text;
  out.first_port = port(view.substr(0, dash));
  out.last_port = dash == std::string::npos ? out.first_port : port(view.substr(dash + 1));
  if (out.last_port < out.first_port) {
    ctx.fail(field.line, field.key, "the range's last port is below its first");
  }
}

AllocateConfig parse_allocate(ParseContext& ctx, const Field& field) {
  MapReader map(
      ctx, field,
      {"ports", "hosts", "bind", "lease", "evict", "idle_after", "tokens", "token_files"});
  AllocateConfig out;
  if (auto f = map.find("ports")) read_port_range(ctx, *f, out);
  if (auto f = map.find("hosts")) out.hosts = to_lower_ascii(read_string(ctx, *f));
  if (auto f = map.find("bind")) out.bind = read_string(ctx, *f);
  if (auto f = map.find("lease")) out.lease = read_duration(ctx, *f);
  if (auto f = map.find("idle_after")) out.idle_after = read_duration(ctx, *f);
  if (auto f = map.find("evict")) {
    const std::string text = read_string(ctx, *f);
    if (text != "idle" && text != "none") {
      ctx.fail(f->line, f->key, "expected idle or none, got \"" + text + "\"");
    }
    out.evict_idle = text == "idle";
  }
  if (auto f = map.find("tokens")) out.tokens = read_tokens(ctx, *f);
  if (auto f = map.find("token_files")) out.token_files = parse_token_files(ctx, *f);
  return out;
}

TunnelConfig parse_tunnel(ParseContext& ctx, const std::string& name, const Field& field) {
  MapReader map(ctx, field,
                {"hosts", "tcp", "tcp_idle_timeout", "allocate", "auth", "balance", "hash_key",
                 "envoy_clusters", "tenant", "identity_routing", "reverst_group"});
  TunnelConfig out;
  out.name = name;
  out.reverst_group = name;
  if (auto f = map.find("reverst_group")) {
    out.reverst_group = read_string(ctx, *f);
    // Empty would silently mean the tunnel's name (reverst_group_name()).
    if (out.reverst_group.empty()) {
      ctx.fail(f->line, f->key, "reverst group must be 1-63 characters of [A-Za-z0-9._-]");
    }
  }
  if (auto f = map.find("hosts")) out.hosts = read_string_list(ctx, *f);
  for (std::string& host : out.hosts) host = to_lower_ascii(host);
  if (auto f = map.find("tcp")) {
    for (const Field& element : read_list(ctx, *f)) out.tcp.push_back(read_tcp_port(ctx, element));
  }
  if (auto f = map.find("tcp_idle_timeout")) out.tcp_idle_timeout = read_duration(ctx, *f);
  if (auto f = map.find("allocate")) out.allocate = parse_allocate(ctx, *f);
  if (auto f = map.find("auth")) out.auth = parse_auth(ctx, *f);
  if (auto f = map.find("envoy_clusters")) out.envoy_clusters = read_string_list(ctx, *f);
  if (auto f = map.find("tenant")) out.tenant = read_string(ctx, *f);
  if (auto f = map.find("hash_key")) {
    const std::string text = read_string(ctx, *f);
    if (text == "client_ip") {
      out.hash_key = {HashKey::Source::client_ip, {}};
    } else if (text.starts_with("header:") && text.size() > 7) {
      out.hash_key = {HashKey::Source::header, to_lower_ascii(text.substr(7))};
    } else if (text.starts_with("cookie:") && text.size() > 7) {
      out.hash_key = {HashKey::Source::cookie, text.substr(7)};
    } else {
      ctx.fail(f->line, f->key,
               "invalid hash key \"" + text + "\": expected header:NAME, cookie:NAME or client_ip");
    }
  }
  if (auto f = map.find("identity_routing")) out.identity_routing = parse_identity_routing(ctx, *f);
  if (auto f = map.find("balance")) {
    const std::string text = read_string(ctx, *f);
    const auto policy = parse_balance_policy(text);
    if (!policy)
      ctx.fail(
          f->line, f->key,
          "unknown balance policy \"" + text + "\": expected least_inflight, round_robin or hash");
    out.balance = *policy;
  }
  return out;
}

DevTunnelConfig parse_devtunnel(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field,
                {"listen", "ports", "bind", "tunnel", "allow", "poll_timeout", "request_timeout",
                 "offline_after", "queue", "max_body_bytes"});
  DevTunnelConfig out;
  out.listen = read_listen_address(ctx, map.require("listen"));
  if (auto f = map.find("ports")) {
    AllocateConfig range;
    read_port_range(ctx, *f, range);
    out.first_port = range.first_port;
    out.last_port = range.last_port;
  }
  if (auto f = map.find("bind")) out.bind = read_string(ctx, *f);
  if (auto f = map.find("tunnel")) out.tunnel = read_string(ctx, *f);
  if (auto f = map.find("allow")) out.allow = read_networks(ctx, *f);
  if (auto f = map.find("poll_timeout")) out.poll_timeout = read_duration(ctx, *f);
  if (auto f = map.find("request_timeout")) out.request_timeout = read_duration(ctx, *f);
  if (auto f = map.find("offline_after")) out.offline_after = read_duration(ctx, *f);
  if (auto f = map.find("queue")) out.queue = read_count(ctx, *f, 1);
  if (auto f = map.find("max_body_bytes")) out.max_body_bytes = read_byte_size(ctx, *f);
  return out;
}

EdgeConfig parse_edge_config(ParseContext& ctx, const Field& root) {
  MapReader map(ctx, root, {"edge", "agents", "public", "tunnels", "devtunnel"});
  EdgeConfig out;
  out.edge.id = default_edge_id();
  if (auto f = map.find("edge")) parse_edge_section(ctx, *f, out.edge);
  out.agents = parse_agents(ctx, map.require("agents"));
  if (auto f = map.find("public")) out.public_ = parse_public(ctx, *f);
  if (auto f = map.find("devtunnel")) out.devtunnel = parse_devtunnel(ctx, *f);
  // An edge that only fronts DevTunnel clients needs no tunnels section.
  std::optional<Field> tunnels_field = map.find("tunnels");
  if (!out.devtunnel) tunnels_field = map.require("tunnels");
  if (tunnels_field && !tunnels_field->node.IsNull()) {
    MapReader tunnels(ctx, *tunnels_field);
    for (const auto& [name, field] : tunnels.entries()) {
      if (field.node.IsNull()) ctx.fail(field.line, field.key, "missing value");
      out.tunnels.push_back(parse_tunnel(ctx, name, field));
    }
  }
  return out;
}

}  // namespace

tl::expected<EdgeConfig, ConfigError> load_edge_config(const std::string& path) {
  auto text = config_detail::read_config_file(path);
  if (!text) return tl::unexpected(std::move(text.error()));
  return load_edge_config_from_string(*text, path, config_detail::config_base_dir(path));
}

tl::expected<EdgeConfig, ConfigError> load_edge_config_from_string(std::string_view yaml,
                                                                   std::string file_label,
                                                                   std::filesystem::path base_dir) {
  return config_detail::load_config<EdgeConfig>(yaml, std::move(file_label), std::move(base_dir),
                                                parse_edge_config, validate_edge_config);
}

}  // namespace dialback
