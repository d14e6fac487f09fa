// `dialback demo [--port 8080]`: an edge, an agent with two sessions and a
// demo web service in one process, with a throwaway CA and token.
#include <iostream>

#include "agent/agent.hpp"
#include "auth/token.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "demo_service.hpp"
#include "edge/edge.hpp"
#include "tls/pki.hpp"

namespace dialback::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoArgs {
  int port = 8080;
  LogFlags log;
};

constexpr std::string_view kDemoHost = "demo.localhost";
constexpr int kDemoSessions = 2;

Task<void> announce(agent::Agent* agent, Clock::time_point started, int port, Logger logger) {
  co_await agent->wait_connected(kDemoSessions);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  const std::string url = "http://" + std::string(kDemoHost) + ":" + std::to_string(port) + "/";
  std::cout << "\ndialback demo is up (" << ms.count() << " ms): " << url << "\n"
            << "  try:  curl " << url << "echo\n"
            << "  (or:  curl -H 'Host: " << kDemoHost << "' http://127.0.0.1:" << port
            << "/echo)\n"
            << "Ctrl-C stops it.\n"
            << std::endl;
}

Task<void> stop_demo(agent::Agent* agent, edge::Edge* edge, DemoService* service,
                     Clock::time_point deadline) {
  co_await agent->shutdown(deadline);
  co_await edge->shutdown(deadline);
  service->stop();
}

int run_demo(const DemoArgs& args) {
  const auto started = Clock::now();
  auto log_options = args.log.options();
  if (!log_options) {
    print_error(log_options.error());
    return kExitUsage;
  }
  auto ca = make_ca("dialback demo CA");
  auto server = ca ? issue_certificate(*ca, CertificateRequest{"localhost", {"localhost"},
                                                               {"127.0.0.1"}})
                   : PkiResult<PemPair>(tl::unexpected(ca.error()));
  if (!server) {
    print_error("demo certificates: " + server.error().message());
    return kExitFailure;
  }
  const std::string token = generate_token();

  asio::io_context io(1);
  auto logger = make_logger("demo", *log_options);
  DemoService service(io.get_executor());
  auto service_endpoint = service.start();
  if (!service_endpoint) {
    print_error("demo service: " + service_endpoint.error().message());
    return kExitFailure;
  }

  EdgeConfig edge_config;
  edge_config.edge.id = "demo-edge";
  edge_config.edge.drain_timeout = std::chrono::seconds(5);
  edge_config.agents.listen = {"127.0.0.1", 0};
  edge_config.public_.http = ListenAddress{"127.0.0.1", static_cast<std::uint16_t>(args.port)};
  TunnelConfig tunnel;
  tunnel.name = "demo";
  tunnel.hosts = {std::string(kDemoHost)};
  tunnel.auth.tokens = {hash_token(token)};
  edge_config.tunnels = {tunnel};
  edge::Edge edge(io.get_executor(), edge_config, logger->clone("edge"));
  edge::EdgeTlsPem pem;
  pem.cert_pem = server->cert_pem;
  pem.key_pem = server->key_pem;
  if (auto ok = edge.start(pem); !ok) {
    print_error(ok.error() + (args.port != 0 ? " (try --port with another port)" : ""));
    return kExitFailure;
  }

  AgentConfig agent_config;
  agent_config.agent.node = "demo-agent";
  agent_config.tunnel = "demo";
  agent_config.token = token;
  EdgeTargetConfig target;
  target.host = "127.0.0.1";
  target.port = edge.agent_endpoint().port();
  target.server_name = "localhost";
  target.connections = kDemoSessions;
  agent_config.edges = {target};
  AgentRoute route;  // prefix "/": everything goes to the demo service
  route.upstream.host = "127.0.0.1";
  route.upstream.port = service_endpoint->port();
  route.upstream.url = "http://127.0.0.1:" + std::to_string(service_endpoint->port());
  agent_config.routes = {route};
  agent_config.drain_timeout = std::chrono::seconds(5);
  agent::Agent agent(io.get_executor(), agent_config, logger->clone("agent"));
  if (auto ok = agent.start(ClientTlsPem{ca->cert_pem, std::nullopt, std::nullopt}); !ok) {
    print_error(ok.error());
    return kExitFailure;
  }
  asio::co_spawn(io, announce(&agent, started, edge.public_endpoint().port(), logger),
                 asio::detached);
  run_until_signal(io, logger, std::chrono::seconds(5), [&](auto deadline) {
    return stop_demo(&agent, &edge, &service, deadline);
  });
  return kExitOk;
}

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "Run edge + agent + a demo service in one process");
  auto args = std::make_shared<DemoArgs>();
  demo->add_option("--port", args->port, "public HTTP port on 127.0.0.1 (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  args->log.add_to(*demo);
  return {demo, [args] { return run_demo(*args); }};
}

}  // namespace dialback::cli
