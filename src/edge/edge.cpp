#include "edge/edge.hpp"

#include "tls/tls_context.hpp"
#include "transport/envoy/envoy_acceptor.hpp"
#include "transport/h2/registration_acceptor.hpp"
#include "transport/poll/poll_acceptor.hpp"
#include "transport/quic/h3_registration.hpp"
#include "transport/reverst/reverst_handshake.hpp"
#include "transport/rhttp/rhttp_acceptor.hpp"
#include "tunnel/raw_tcp_head.hpp"

namespace dialback::edge {
namespace {

std::optional<std::string> unless_empty(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

tl::expected<tcp::endpoint, std::string> resolve_listen(const ListenAddress& address) {
  error_code ec;
  auto ip = asio::ip::make_address(address.host == "*" ? "0.0.0.0" : address.host, ec);
  if (ec) {
    if (address.host == "localhost") return tcp::endpoint(asio::ip::address_v4::loopback(), address.port);
    return tl::unexpected("cannot listen on '" + address.host + "': not an IP address");
  }
  return tcp::endpoint(ip, address.port);
}

}  // namespace

Edge::Edge(asio::any_io_executor executor, EdgeConfig config, Logger logger)
    : executor_(std::move(executor)), config_(std::move(config)), logger_(std::move(logger)) {}

Edge::~Edge() = default;

tl::expected<void, std::string> Edge::start(const std::optional<EdgeTlsPem>& pem) {
  // DevTunnel users are sessions of a tunnel of their own, after the
  // configured ones. It has no credential: no agent can register with it.
  std::vector<TunnelConfig> tunnels = config_.tunnels;
  if (config_.devtunnel) {
    tunnels.emplace_back();
    tunnels.back().name = config_.devtunnel->tunnel;
  }
  auto table = TunnelTable::build(tunnels);
  if (!table) return tl::unexpected(table.error());
  tunnels_ = std::move(*table);
  registry_ = std::make_unique<SessionRegistry>(config_.agents.outlier_detection, logger_);
  for (const auto& tunnel : tunnels) registry_->set_policy(tunnel.name, tunnel.balance);

  // From files, the error names the config key and the file itself:
  // "agents.cert: cannot read /etc/dialback/edge.crt: No such file or directory".
  if (pem) {
    auto tls = make_server_context(
        ServerTlsPem{pem->cert_pem, pem->key_pem, unless_empty(pem->client_ca_pem)},
        AlpnSet::agent_listener);
    if (!tls) return tl::unexpected("agent listener TLS: " + tls.error().message());
    agent_tls_.emplace(std::move(*tls));
  } else {
    auto tls = make_server_context(ServerTlsFiles{config_.agents.cert, config_.agents.key,
                                                  unless_empty(config_.agents.client_ca)},
                                   AlpnSet::agent_listener, "agents");
    if (!tls) return tl::unexpected(tls.error().message());
    agent_tls_.emplace(std::move(*tls));
  }

  if (const auto& https = config_.public_.https) {
    if (pem && !pem->public_cert_pem.empty()) {
      auto public_tls = make_server_context(
          ServerTlsPem{pem->public_cert_pem, pem->public_key_pem, {}}, AlpnSet::public_https);
      if (!public_tls) return tl::unexpected("public.https TLS: " + public_tls.error().message());
      public_tls_.emplace(std::move(*public_tls));
    } else {
      auto public_tls = make_server_context(ServerTlsFiles{https->cert, https->key, {}},
                                            AlpnSet::public_https, "public.https");
      if (!public_tls) return tl::unexpected(public_tls.error().message());
      public_tls_.emplace(std::move(*public_tls));
    }
  }

  auto agent_ep = resolve_listen(config_.agents.listen);
  if (!agent_ep) return tl::unexpected("agents.listen: " + agent_ep.error());
  agents_ = std::make_unique<AgentListener>(executor_, *agent_tls_, config_, tunnels_, *registry_,
                                            counters_, logger_);
  SessionSettings session;
  session.ping_interval = config_.agents.ping_interval;
  session.ping_timeout = config_.agents.ping_timeout;
  session.windows = config_.agents.windows;
  session.max_header_bytes = config_.agents.max_response_header_bytes;
  // First claim wins: rhttp takes the HTTP/2 preface, envoy its handshake
  // request, poll its requests, h2 everything else.
  agents_->add_acceptor(std::make_unique<rhttp::RhttpAcceptor>(session, logger_));
  agents_->add_acceptor(std::make_unique<envoy::EnvoyAcceptor>(session, logger_));
  agents_->add_acceptor(std::make_unique<poll::PollAcceptor>(session, logger_));
  agents_->add_acceptor(std::make_unique<h2::RegistrationAcceptor>(session, logger_));
  auto bound = agents_->listen(*agent_ep);
  if (!bound) {
    return tl::unexpected("agents.listen " + to_string(config_.agents.listen) + ": " +
                          bound.error().message());
  }
  agent_endpoint_ = *bound;
  if (config_.agents.quic) {
    if (auto started = start_quic(pem); !started) return started;
  }

  auto access = logger_->clone(logger_->name() + ".access");
  public_ = std::make_unique<PublicHttpServer>(executor_, config_, tunnels_, *registry_, counters_,
                                               public_tls_ ? &*public_tls_ : nullptr, access,
                                               logger_);
  if (config_.public_.http) {
    auto public_ep = resolve_listen(*config_.public_.http);
    if (!public_ep) return tl::unexpected("public.http: " + public_ep.error());
    auto public_bound = public_->listen(*public_ep);
    if (!public_bound) {
      return tl::unexpected("public.http " + to_string(*config_.public_.http) + ": " +
                            public_bound.error().message());
    }
    public_endpoint_ = *public_bound;
  }
  if (const auto& https = config_.public_.https) {
    auto tls_ep = resolve_listen(https->listen);
    if (!tls_ep) return tl::unexpected("public.https: " + tls_ep.error());
    auto tls_bound = public_->listen_tls(*tls_ep);
    if (!tls_bound) {
      return tl::unexpected("public.https " + to_string(https->listen) + ": " +
                            tls_bound.error().message());
    }
    public_tls_endpoint_ = *tls_bound;
  }
  if (config_.public_.h3) {
    if (auto started = start_public_h3(pem); !started) return started;
  }
  if (auto started = start_tcp_ports(); !started) return started;
  if (auto started = start_devtunnel(); !started) return started;
  tcp_->start();
  if (allocations_) accept_loops_.spawn(allocations_->expiry_loop());
  if (devtunnel_) accept_loops_.spawn(devtunnel_->accept_loop());
  if (config_.public_.http) accept_loops_.spawn(public_->accept_loop());
  if (config_.public_.https) accept_loops_.spawn(public_->tls_accept_loop());
  accept_loops_.spawn(agents_->accept_loop());
  auto show = [](const tcp::endpoint& ep) {
    return ep.port() == 0 ? std::string("-")
                          : ep.address().to_string() + ":" + std::to_string(ep.port());
  };
  if (quic_agents_) accept_loops_.spawn(quic_agents_->receive_loop());
  if (config_.public_.h3) accept_loops_.spawn(public_->h3_receive_loop());
  logger_->info("edge {} listening: agents on {}, public http on {}, public https on {}",
                config_.edge.id, show(agent_endpoint_), show(public_endpoint_),
                show(public_tls_endpoint_));
  if (quic_agents_) {
    logger_->info("edge {} listening: agents over QUIC on {}:{}", config_.edge.id,
                  agent_quic_endpoint_.address().to_string(), agent_quic_endpoint_.port());
  }
  if (config_.public_.h3) {
    logger_->info("edge {} listening: public HTTP/3 on {}:{}", config_.edge.id,
                  public_h3_endpoint_.address().to_string(), public_h3_endpoint_.port());
  }
  return {};
}

tl::expected<void, std::string> Edge::start_tcp_ports() {
  tcp_ =
      std::make_unique<PublicTcpServer>(executor_, public_->forwarder(), public_->slots(), logger_);
  const bool allocating = std::any_of(config_.tunnels.begin(), config_.tunnels.end(),
                                      [](const TunnelConfig& tunnel) { return tunnel.allocate; });
  if (allocating) {
    allocations_ =
        std::make_unique<Allocations>(executor_, config_, tunnels_, *tcp_, *registry_, logger_);
    agents_->set_allocations(allocations_.get());
    public_->forwarder().set_allocations(allocations_.get());
  }
  for (const TunnelConfig& tunnel : config_.tunnels) {
    const std::size_t index = *tunnels_.find(tunnel.name);
    for (std::size_t i = 0; i < tunnel.tcp.size(); ++i) {
      const std::string key =
          "tunnels." + tunnel.name + ".tcp[" + std::to_string(i) + "] " + to_string(tunnel.tcp[i]);
      auto endpoint = resolve_listen(tunnel.tcp[i]);
      if (!endpoint) return tl::unexpected(key + ": " + endpoint.error());
      auto bound = tcp_->open_port(index, *endpoint, tunnel.tcp_idle_timeout);
      if (!bound) return tl::unexpected(key + ": " + bound.error().message());
      tcp_endpoints_.push_back(*bound);
      logger_->info("edge {} listening: tunnel {} raw TCP on {}", config_.edge.id, tunnel.name,
                    endpoint_text(*bound));
    }
  }
  return {};
}

tl::expected<void, std::string> Edge::start_devtunnel() {
  if (!config_.devtunnel) return {};
  const DevTunnelConfig& dev = *config_.devtunnel;
  auto endpoint = resolve_listen(dev.listen);
  if (!endpoint) return tl::unexpected("devtunnel.listen: " + endpoint.error());
  devtunnel_ = std::make_unique<DevTunnelServer>(executor_, dev, *tunnels_.find(dev.tunnel),
                                                 *public_, *registry_, logger_);
  auto bound = devtunnel_->listen(*endpoint);
  if (!bound) {
    return tl::unexpected("devtunnel.listen " + to_string(dev.listen) + ": " +
                          bound.error().message());
  }
  devtunnel_endpoint_ = *bound;
  logger_->info("edge {} listening: DevTunnel clients on {}, their ports {}-{} on {}",
                config_.edge.id, endpoint_text(*bound), dev.first_port, dev.last_port, dev.bind);
  return {};
}

tl::expected<void, std::string> Edge::start_quic(const std::optional<EdgeTlsPem>& pem) {
  const QuicListenerConfig& quic = *config_.agents.quic;
  std::vector<std::unique_ptr<quic::QuicRegistration>> registrations;
  registrations.push_back(std::make_unique<quic::H3Registration>());
  registrations.push_back(std::make_unique<reverst::ReverstRegistration>());
  const auto alpns = quic::QuicAgentListener::alpns(registrations);
  auto tls = pem ? quic::QuicTlsCredentials::server_from_pem(pem->cert_pem, pem->key_pem,
                                                             pem->client_ca_pem, alpns)
                 : quic::QuicTlsCredentials::server(config_.agents.cert, config_.agents.key,
                                                    config_.agents.client_ca, alpns);
  if (!tls) return tl::unexpected("agents.quic: " + tls.error());
  auto address = resolve_listen(quic.listen);
  if (!address) return tl::unexpected("agents.quic.listen: " + address.error());
  quic::QuicListenerSettings settings;
  settings.side = quic::Side::edge;
  settings.engine = quic::engine_settings(quic.settings);
  settings.engine.max_header_bytes = config_.agents.max_response_header_bytes;
  settings.retry = quic.retry;
  settings.max_connections = quic.max_connections;
  quic_agents_ = std::make_unique<quic::QuicAgentListener>(
      executor_, settings, std::move(*tls), std::move(registrations), *agents_, logger_);
  auto bound = quic_agents_->listen(asio::ip::udp::endpoint(address->address(), address->port()));
  if (!bound) {
    return tl::unexpected("agents.quic.listen " + to_string(quic.listen) + ": " +
                          bound.error().message());
  }
  agent_quic_endpoint_ = *bound;
  return {};
}

tl::expected<void, std::string> Edge::start_public_h3(const std::optional<EdgeTlsPem>& pem) {
  const PublicH3Config& h3 = *config_.public_.h3;
  const HttpsListenerConfig& https = *config_.public_.https;  // validated: h3 needs https
  const std::vector<std::string> alpns{std::string(quic::kAlpnH3)};
  auto tls = pem && !pem->public_cert_pem.empty()
                 ? quic::QuicTlsCredentials::server_from_pem(pem->public_cert_pem,
                                                             pem->public_key_pem, {}, alpns)
                 : quic::QuicTlsCredentials::server(https.cert, https.key, {}, alpns);
  if (!tls) return tl::unexpected("public.h3: " + tls.error());
  auto address = resolve_listen(h3.listen);
  if (!address) return tl::unexpected("public.h3.listen: " + address.error());
  auto bound = public_->listen_h3(asio::ip::udp::endpoint(address->address(), address->port()),
                                  std::move(*tls));
  if (!bound) {
    return tl::unexpected("public.h3.listen " + to_string(h3.listen) + ": " +
                          bound.error().message());
  }
  public_h3_endpoint_ = *bound;
  return {};
}

Task<void> Edge::shutdown(std::chrono::steady_clock::time_point deadline) {
  logger_->info("edge {} draining", config_.edge.id);
  if (devtunnel_) devtunnel_->begin_drain();
  if (public_) public_->stop();
  if (tcp_) tcp_->stop();
  if (allocations_) allocations_->stop();  // leases end with the edge; its ports close below
  if (quic_agents_) quic_agents_->stop_accepting();
  if (agents_) {
    agents_->stop();
    co_await agents_->drain(deadline);
  }
  if (quic_agents_) co_await quic_agents_->close();
  // DevTunnel users answer what they were handed until the deadline.
  if (devtunnel_) co_await devtunnel_->stop(deadline);
  if (public_) co_await public_->wait_idle();
  if (tcp_) {
    tcp_->close_all();  // raw TCP has no graceful end: what the drain left is cut
    co_await tcp_->wait_idle();
  }
  // The loops see their closed acceptors only when their aborted accepts
  // complete; until then they still touch the listeners.
  co_await accept_loops_.join();
  logger_->info("edge {} stopped", config_.edge.id);
}

std::size_t Edge::session_count(std::string_view tunnel) const {
  return registry_ ? registry_->count(tunnel) : 0;
}

}  // namespace dialback::edge
