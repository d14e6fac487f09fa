// `dialback agent --config agent.yaml` or `dialback agent --edge HOST:PORT
// --tunnel NAME ... URL` (or `--route PREFIX=URL`, repeated; --edge too, also
// as rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT). Flags override file values;
// the token comes from --token, --token-file, the file, or DIALBACK_TOKEN, in
// that order. HTTP Basic instead: --user (or `user:`) with the password from
// --password-file, the file's password_file, or DIALBACK_PASSWORD, in that
// order. A credential flag replaces the file's credential of the other kind.
// The proxy: --proxy, the file's `proxy:`, or HTTPS_PROXY (with NO_PROXY).
#include <cstdlib>
#include <optional>
#include <vector>

#include "agent/agent.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "config/agent_config.hpp"
#include "config/config_rules.hpp"
#include "config/edge_address.hpp"
#include "config/upstream_url.hpp"

namespace dialback::cli {
namespace {

struct AgentArgs {
  std::string config;
  std::vector<std::string> edges;  // --edge, repeatable; together they replace the file's edges
  std::string tunnel;
  std::string token;
  std::string token_file;
  std::string user;           // --user: HTTP Basic instead of a token
  std::string password_file;  // --password-file
  std::string ca;
  std::string cert;
  std::string key;
  std::string node;
  std::string cluster;
  std::string tenant;
  std::string server_name;
  int connections = 0;
  std::string transport;
  std::string upstream;             // URL or --upstream: the route "/"
  std::vector<std::string> routes;  // --route PREFIX=URL, repeatable
  bool upstream_h2c = false;        // --upstream-h2c
  std::string host_rewrite;         // --host-rewrite
  std::string tcp;                  // --tcp HOST:PORT: the raw TCP target
  std::string proxy_protocol;       // --proxy-protocol none|v2
  std::string allocate_port;        // --port auto|N
  std::string allocate_host;        // --host auto|label
  std::optional<std::string> proxy;  // --proxy URL; "": none
  int poll_next_requests = 0;        // --poll-next-requests; 0: the file's
  int poll_send_requests = 0;        // --poll-send-requests
  LogFlags log;
};

tl::expected<AgentConfig, ConfigError> flag_error(std::string key, std::string message) {
  return tl::unexpected(ConfigError{"", 0, std::move(key), std::move(message)});
}

// A validation error about a value that came from a flag names the flag.
ConfigError name_flag(ConfigError error, const AgentArgs& args) {
  // Per-edge settings from flags apply to every edge: edges[i].<setting>.
  const std::pair<std::string_view, std::pair<bool, std::string_view>> edge_settings[] = {
      {".server_name", {!args.server_name.empty(), "--server-name"}},
      {".transport", {!args.transport.empty(), "--transport"}},
  };
  for (const auto& [suffix, flag] : edge_settings) {
    if (flag.first && error.key.starts_with("edges[") && error.key.ends_with(suffix)) {
      error.file.clear();
      error.line = 0;
      error.key = std::string(flag.second);
      return error;
    }
  }
  const std::pair<std::string_view, std::pair<bool, std::string_view>> flags[] = {
      {"tunnel", {!args.tunnel.empty(), "--tunnel"}},
      {"user", {!args.user.empty(), "--user"}},
      {"password_file", {!args.password_file.empty(), "--password-file"}},
      {"agent.node", {!args.node.empty(), "--node"}},
      {"agent.cluster", {!args.cluster.empty(), "--cluster"}},
      {"agent.tenant", {!args.tenant.empty(), "--tenant"}},
      {"ca", {!args.ca.empty(), "--ca"}},
      {"cert", {!args.cert.empty(), "--cert"}},
      {"key", {!args.key.empty(), "--key"}},
      {"edges[", {!args.edges.empty(), "--edge"}},
      {"routes[0].host", {!args.host_rewrite.empty(), "--host-rewrite"}},
      {"routes", {!args.upstream.empty(), "URL"}},
      {"routes", {!args.routes.empty(), "--route"}},
  };
  for (const auto& [key, flag] : flags) {
    if (flag.first && error.key.starts_with(key)) {
      error.file.clear();
      error.line = 0;
      error.key = std::string(flag.second);
      break;
    }
  }
  return error;
}

// "--route PREFIX=URL": split at the first '=' (a prefix cannot contain one).
tl::expected<AgentRoute, std::string> parse_route_flag(const std::string& text) {
  const auto equals = text.find('=');
  if (equals == std::string::npos) {
    return tl::unexpected("expected PREFIX=URL, e.g. /api=http://127.0.0.1:4000, got \"" + text + "\"");
  }
  auto url = parse_upstream_url(std::string_view(text).substr(equals + 1));
  if (!url) return tl::unexpected(url.error());
  AgentRoute route;
  route.prefix = text.substr(0, equals);
  route.upstream = std::move(*url);
  return route;
}

// The routes from the flags, replacing the file's: the URL is the route "/";
// --route flags list them. Not both.
tl::expected<void, ConfigError> apply_route_flags(const AgentArgs& args, AgentConfig& config) {
  if (!args.upstream.empty() && !args.routes.empty()) {
    return tl::unexpected(ConfigError{"", 0, "--route", "give either the URL of the local service or "
                                                        "--route flags, not both (URL is the route /)"});
  }
  if (!args.upstream.empty()) {
    auto url = parse_upstream_url(args.upstream);
    if (!url) return tl::unexpected(ConfigError{"", 0, "URL", url.error()});
    AgentRoute route;
    route.upstream = std::move(*url);
    config.routes = {std::move(route)};
  } else if (!args.routes.empty()) {
    config.routes.clear();
    for (const std::string& text : args.routes) {
      auto route = parse_route_flag(text);
      if (!route) return tl::unexpected(ConfigError{"", 0, "--route", route.error()});
      config.routes.push_back(std::move(*route));
    }
  }
  return {};
}

// --tcp replaces the file's raw TCP target; --proxy-protocol sets its header.
tl::expected<void, ConfigError> apply_tcp_flags(const AgentArgs& args, AgentConfig& config) {
  if (!args.tcp.empty()) {
    auto address = parse_connect_address(args.tcp);
    if (!address) return tl::unexpected(ConfigError{"", 0, "--tcp", address.error()});
    config.tcp = AgentTcpTarget{std::move(*address),
                                config.tcp ? config.tcp->proxy_protocol : ProxyProtocol::none};
  }
  if (!args.proxy_protocol.empty()) {
    if (!config.tcp) {
      return tl::unexpected(ConfigError{"", 0, "--proxy-protocol", "needs --tcp (or `tcp:`)"});
    }
    config.tcp->proxy_protocol =
        args.proxy_protocol == "v2" ? ProxyProtocol::v2 : ProxyProtocol::none;
  }
  return {};
}

// --port and --host replace the file's allocate.port and allocate.host.
tl::expected<void, ConfigError> apply_allocation_flags(const AgentArgs& args, AgentConfig& config) {
  if (!args.allocate_port.empty()) {
    auto kind = parse_port_request(args.allocate_port, config.allocation.port);
    if (!kind) {
      return tl::unexpected(ConfigError{"", 0, "--port", "expected auto or a port 1-65535"});
    }
    config.allocation.port_kind = *kind;
  }
  if (!args.allocate_host.empty()) {
    auto kind = parse_host_request(args.allocate_host, config.allocation.label);
    if (!kind) {
      return tl::unexpected(ConfigError{
          "", 0, "--host",
          "expected auto or a DNS label (1-63 of a-z, 0-9 and '-', not first or last)"});
    }
    config.allocation.host_kind = *kind;
  }
  return {};
}

// --upstream-h2c and --host-rewrite modify the single upstream route (the
// URL, or `upstream:` in the file); several routes set them per route.
tl::expected<void, ConfigError> apply_upstream_options(const AgentArgs& args, AgentConfig& config) {
  if (!args.upstream_h2c && args.host_rewrite.empty()) return {};
  const std::string flag = args.upstream_h2c ? "--upstream-h2c" : "--host-rewrite";
  if (config.routes.size() != 1 || config.routes.front().prefix != "/") {
    return tl::unexpected(ConfigError{"", 0, flag, "applies to a single upstream URL (the route /); "
                                                   "with routes, set h2c/host per route in --config"});
  }
  if (args.upstream_h2c) config.routes.front().h2c = true;
  if (!args.host_rewrite.empty()) config.routes.front().host_rewrite = args.host_rewrite;
  return {};
}

// --node, --cluster, --tenant: they override the file's `agent:` values.
void apply_identity_flags(const AgentArgs& args, AgentConfig& config) {
  struct IdentityFlag {
    const std::string& flag;
    std::string& value;
    std::string& set_by;
    const char* name;
  };
  const IdentityFlag flags[] = {
      {args.node, config.agent.node, config.agent.set_by.node, "--node"},
      {args.cluster, config.agent.cluster, config.agent.set_by.cluster, "--cluster"},
      {args.tenant, config.agent.tenant, config.agent.set_by.tenant, "--tenant"},
  };
  for (const IdentityFlag& f : flags) {
    if (f.flag.empty()) continue;
    f.value = f.flag;
    f.set_by = f.name;
  }
}

// The --edge flags replace the file's edges. Node, cluster and tenant that
// the file took from its own rc:// addresses go with them (back to the
// defaults, unless `agent:` or a flag set them).
tl::expected<void, ConfigError> apply_edge_flags(const AgentArgs& args, AgentConfig& config) {
  if (args.edges.empty()) return {};
  const AgentIdentityConfig defaults{};
  if (config.agent.set_by.node.empty()) config.agent.node = default_agent_node();
  if (config.agent.set_by.cluster.empty()) config.agent.cluster = defaults.cluster;
  if (config.agent.set_by.tenant.empty()) config.agent.tenant = defaults.tenant;
  config.edges.clear();
  for (const std::string& text : args.edges) {
    auto address = parse_edge_address(text);
    if (!address) return tl::unexpected(ConfigError{"", 0, "--edge", address.error()});
    EdgeTargetConfig target;
    target.host = std::move(address->host);
    target.port = address->port;
    if (address->rc) {
      target.rc = true;
      target.connections = address->count;
      target.transport = AgentTransport::envoy;
      target.address_identity = std::move(address->identity);
    }
    config.edges.push_back(std::move(target));
  }
  return {};
}

// The credential from the flags and the environment over the file's: a
// token (--token, --token-file, the file, DIALBACK_TOKEN) or a user and
// password (--user or the file; --password-file, the file's password_file,
// DIALBACK_PASSWORD). A credential flag replaces the file's other kind.
tl::expected<void, ConfigError> apply_credential_flags(const AgentArgs& args, AgentConfig& config) {
  const bool token_flag = !args.token.empty() || !args.token_file.empty();
  if (token_flag && !args.user.empty()) {
    return tl::unexpected(
        ConfigError{"", 0, "--user", "--token and --user are mutually exclusive"});
  }
  if (token_flag) {
    config.user.clear();
    config.password.clear();
    config.password_file.clear();
  }
  if (!args.user.empty()) {
    config.user = args.user;
    config.token.clear();
    config.token_file.clear();
  }
  if (!args.token.empty()) {
    config.token = args.token;
  } else if (!args.token_file.empty()) {
    auto token = read_token_file(args.token_file);
    if (!token) return tl::unexpected(ConfigError{"", 0, "--token-file", token.error().message});
    config.token = *token;
  } else if (config.token.empty() && config.user.empty()) {
    if (const char* env = std::getenv("DIALBACK_TOKEN"); env != nullptr) config.token = env;
  }
  if (!args.password_file.empty()) {
    if (config.user.empty()) {
      return tl::unexpected(
          ConfigError{"", 0, "--password-file", "needs --user (or `user:` in --config)"});
    }
    auto password = read_secret_file(args.password_file, "password_file");
    if (!password) {
      return tl::unexpected(ConfigError{"", 0, "--password-file", password.error().message});
    }
    config.password = *password;
    config.password_file = args.password_file;
  } else if (!config.user.empty() && config.password.empty()) {
    if (const char* env = std::getenv("DIALBACK_PASSWORD"); env != nullptr) config.password = env;
  }
  if (!config.user.empty() && config.password.empty()) {
    return tl::unexpected(ConfigError{
        "", 0, args.user.empty() ? "user" : "--user",
        "no password: give --password-file, DIALBACK_PASSWORD, or password_file in --config"});
  }
  return {};
}

// The proxy: --proxy, else the file's `proxy:`, else the environment as
// curl reads it for https:// (https_proxy, HTTPS_PROXY, all_proxy,
// ALL_PROXY); an empty value means none. NO_PROXY (or no_proxy) always
// comes from the environment.
tl::expected<void, ConfigError> apply_proxy_settings(const AgentArgs& args, AgentConfig& config) {
  AgentProxyConfig& proxy = config.proxy;
  std::optional<std::string> text;
  if (args.proxy) {
    proxy.source = "--proxy";
    text = *args.proxy;
  } else if (proxy.source.empty()) {
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      if (const char* value = std::getenv(name); value != nullptr) {
        proxy.source = name;
        text = value;
        break;
      }
    }
  }
  if (text) {
    proxy.url.reset();
    if (!text->empty()) {
      auto url = parse_proxy_url(*text);
      if (!url) return tl::unexpected(ConfigError{"", 0, proxy.source, url.error()});
      proxy.url = std::move(*url);
    }
  }
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      proxy.no_proxy = value;
      break;
    }
  }
  return {};
}

// The effective config: the file (if any) with every given flag applied over it.
tl::expected<AgentConfig, ConfigError> build_config(const AgentArgs& args) {
  AgentConfig config;
  if (!args.config.empty()) {
    auto loaded = load_agent_config(args.config);
    if (!loaded) return tl::unexpected(loaded.error());
    config = std::move(*loaded);
  } else {
    config.agent.node = default_agent_node();
  }
  if (!args.tunnel.empty()) config.tunnel = args.tunnel;
  apply_identity_flags(args, config);
  if (!args.ca.empty()) config.ca = args.ca;
  if (!args.cert.empty()) config.cert = args.cert;
  if (!args.key.empty()) config.key = args.key;
  if (auto applied = apply_edge_flags(args, config); !applied) return tl::unexpected(applied.error());
  // --connections, --server-name and --transport apply to every edge (from
  // --edge flags, or else the file's); an rc:// COUNT wins over --connections.
  for (auto& target : config.edges) {
    if (args.connections > 0 && !target.rc) target.connections = args.connections;
    if (!args.server_name.empty()) target.server_name = args.server_name;
    if (!args.transport.empty()) {
      auto transport = parse_agent_transport(args.transport);
      if (!transport) {
        return flag_error("--transport", "expected h2, rhttp, envoy, h3, auto, reverst or poll");
      }
      target.transport = *transport;
    }
  }
  std::string (*const edge_key)(std::size_t) =
      args.edges.empty() ? +[](std::size_t i) { return "edges[" + std::to_string(i) + "].address"; }
                         : +[](std::size_t) { return std::string("--edge"); };
  if (auto conflict = apply_address_identities(config, edge_key)) return tl::unexpected(std::move(*conflict));
  if (auto applied = apply_route_flags(args, config); !applied) return tl::unexpected(applied.error());
  if (auto applied = apply_credential_flags(args, config); !applied) {
    return tl::unexpected(applied.error());
  }
  if (auto applied = apply_proxy_settings(args, config); !applied) {
    return tl::unexpected(applied.error());
  }
  if (args.poll_next_requests > 0) config.poll.next_requests = args.poll_next_requests;
  if (args.poll_send_requests > 0) config.poll.send_requests = args.poll_send_requests;
  if (config.tunnel.empty()) return flag_error("--tunnel", "required (or `tunnel:` in --config)");
  if (config.edges.empty()) return flag_error("--edge", "required (or `edges:` in --config)");
  if (auto applied = apply_tcp_flags(args, config); !applied)
    return tl::unexpected(applied.error());
  if (auto applied = apply_allocation_flags(args, config); !applied) {
    return tl::unexpected(applied.error());
  }
  if (config.routes.empty() && !config.tcp) {
    return flag_error("URL",
                      "the local service URL is required (or --route, --tcp, or "
                      "`upstream:`, `routes:` or `tcp:` in --config)");
  }
  if (auto applied = apply_upstream_options(args, config); !applied) {
    return tl::unexpected(applied.error());
  }
  if (auto invalid = validate_agent_config(config)) {
    return tl::unexpected(name_flag(std::move(*invalid), args));
  }
  if (config.token.empty() && config.user.empty() && config.cert.empty()) {
    return flag_error("--token",
                      "no credential: give --token, --token-file, DIALBACK_TOKEN, "
                      "--user with a password, or --cert/--key for mTLS");
  }
  return config;
}

int run_agent(const AgentArgs& args) {
  auto log_options = args.log.options();
  if (!log_options) {
    print_error(log_options.error());
    return kExitUsage;
  }
  auto config = build_config(args);
  if (!config) {
    print_error(config.error().to_string());
    return kExitUsage;
  }
  const auto drain = config->drain_timeout;
  asio::io_context io(1);
  auto logger = make_logger("agent", *log_options);
  agent::Agent agent(io.get_executor(), std::move(*config), logger);
  int exit_code = kExitOk;
  agent.on_fatal([&](const RegistrationRejection& rejection) {
    print_error("the edge refused the agent: " + std::to_string(rejection.status) + " " +
                rejection.code + ": " + rejection.message);
    exit_code = rejection.status == 400 ? kExitFailure : kExitAuthRefused;
    // Let every coroutine of the agent end before it is destroyed.
    begin_shutdown(io, [&agent](auto deadline) { return agent.shutdown(deadline); },
                   std::chrono::seconds(1));
  });
  if (auto started = agent.start(); !started) {
    print_error(started.error());
    return kExitFailure;
  }
  run_until_signal(io, logger, drain, [&agent](auto deadline) { return agent.shutdown(deadline); });
  return exit_code;
}

}  // namespace

Command add_agent_command(CLI::App& app) {
  auto* agent = app.add_subcommand("agent", "Dial the edge and serve a local service through it");
  auto args = std::make_shared<AgentArgs>();
  agent->add_option("--config", args->config, "agent config file (YAML); flags override it");
  agent->add_option("--edge", args->edges,
                    "edge agent listener, HOST:PORT or rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT; "
                    "repeatable, one edge each; the flags together replace the file's edges")
      ->allow_extra_args(false);
  agent->add_option("--tunnel", args->tunnel, "tunnel name configured on the edge");
  agent->add_option("--token", args->token, "bearer token (or env DIALBACK_TOKEN)");
  agent->add_option("--token-file", args->token_file, "file holding the token");
  agent->add_option("--user", args->user,
                    "HTTP Basic user name instead of a token (password from --password-file or "
                    "env DIALBACK_PASSWORD)");
  agent->add_option("--password-file", args->password_file, "file holding the --user password");
  agent->add_option("--ca", args->ca, "CA certificate to verify the edge (default: system roots)");
  agent->add_option("--cert", args->cert, "client certificate for mTLS");
  agent->add_option("--key", args->key, "client key for mTLS");
  agent->add_option("--node", args->node, "node id (default: hostname-pid)");
  agent->add_option("--cluster", args->cluster, "cluster id (default: the tunnel name)");
  agent->add_option("--tenant", args->tenant, "tenant id (default: default)");
  agent->add_option("--server-name", args->server_name,
                    "TLS name of the edges (default: each edge's host); applies to every edge");
  agent->add_option("--connections", args->connections,
                    "sessions per edge (default 2; an rc:// COUNT wins); applies to every edge")
      ->check(CLI::Range(1, 64));
  agent->add_option("--transport", args->transport,
                    "h2 (default; envoy for rc:// edges), rhttp, envoy, h3 (QUIC), auto (h3, "
                    "else h2, else poll), reverst or poll (HTTPS/1.1 long-poll); applies to "
                    "every edge");
  agent->add_option("URL_OF_LOCAL_SERVICE,--upstream", args->upstream,
                    "the local service for every path, e.g. http://127.0.0.1:3000");
  agent->add_option("--tcp", args->tcp,
                    "HOST:PORT: relay the tunnel's raw TCP connections (its tcp ports on the "
                    "edge) to this local address; with or instead of URL");
  agent
      ->add_option("--proxy-protocol", args->proxy_protocol,
                   "v2: send a PROXY protocol v2 header naming the public client to the --tcp "
                   "target; none (default)")
      ->check(CLI::IsMember({"none", "v2"}));
  agent->add_option("--port", args->allocate_port,
                    "auto or N: ask the edge for a public port of the tunnel's allocate range "
                    "(a preferred N when free); the edge's answer is printed");
  agent->add_option("--host", args->allocate_host,
                    "auto or LABEL: ask the edge for a host name LABEL.<the tunnel's allocate "
                    "domain> (a random one for auto)");
  agent->add_option("--route", args->routes,
                    "PREFIX=URL: requests whose path is PREFIX or below it go to URL, path "
                    "unchanged; longest prefix wins; repeatable; instead of URL")
      ->allow_extra_args(false);
  agent->add_flag("--upstream-h2c", args->upstream_h2c,
                  "speak h2c (HTTP/2 without TLS) to the URL's service (not implemented yet: "
                  "HTTP/1.1 is used)");
  agent->add_option("--host-rewrite", args->host_rewrite,
                    "Host header sent to the URL's service (default: the public Host)");
  agent->add_option("--proxy", args->proxy,
                    "HTTP proxy for the TCP transports, http://[user:password@]host[:port] "
                    "(default: env HTTPS_PROXY; NO_PROXY is honoured); \"\" for none");
  agent
      ->add_option("--poll-next-requests", args->poll_next_requests,
                   "poll transport: `next` long-polls in flight per session (default 2)")
      ->check(CLI::Range(1, PollSettings::kMostRequests));
  agent
      ->add_option("--poll-send-requests", args->poll_send_requests,
                   "poll transport: `send` requests in flight per session (default 2)")
      ->check(CLI::Range(1, PollSettings::kMostRequests));
  args->log.add_to(*agent);
  return {agent, [args] { return run_agent(*args); }};
}

}  // namespace dialback::cli
