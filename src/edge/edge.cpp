#include "edge/edge.hpp"

#include "tls/tls_context.hpp"
#include "transport/envoy/envoy_acceptor.hpp"
#include "transport/h2/registration_acceptor.hpp"
#include "transport/rhttp/rhttp_acceptor.hpp"

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
  auto table = TunnelTable::build(config_.tunnels);
  if (!table) return tl::unexpected(table.error());
  tunnels_ = std::move(*table);
  registry_ = std::make_unique<SessionRegistry>(config_.agents.outlier_detection, logger_);
  for (const auto& tunnel : config_.tunnels) registry_->set_policy(tunnel.name, tunnel.balance);

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
  // request, h2 everything else.
  agents_->add_acceptor(std::make_unique<rhttp::RhttpAcceptor>(session, logger_));
  agents_->add_acceptor(std::make_unique<envoy::EnvoyAcceptor>(session, logger_));
  agents_->add_acceptor(std::make_unique<h2::RegistrationAcceptor>(session, logger_));
  auto bound = agents_->listen(*agent_ep);
  if (!bound) {
    return tl::unexpected("agents.listen " + to_string(config_.agents.listen) + ": " +
                          bound.error().message());
  }
  agent_endpoint_ = *bound;

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
  if (config_.public_.http) accept_loops_.spawn(public_->accept_loop());
  if (config_.public_.https) accept_loops_.spawn(public_->tls_accept_loop());
  accept_loops_.spawn(agents_->accept_loop());
  auto show = [](const tcp::endpoint& ep) {
    return ep.port() == 0 ? std::string("-")
                          : ep.address().to_string() + ":" + std::to_string(ep.port());
  };
  logger_->info("edge {} listening: agents on {}, public http on {}, public https on {}",
                config_.edge.id, show(agent_endpoint_), show(public_endpoint_),
                show(public_tls_endpoint_));
  return {};
}

Task<void> Edge::shutdown(std::chrono::steady_clock::time_point deadline) {
  logger_->info("edge {} draining", config_.edge.id);
  if (public_) public_->stop();
  if (agents_) {
    agents_->stop();
    co_await agents_->drain(deadline);
  }
  if (public_) co_await public_->wait_idle();
  // The loops see their closed acceptors only when their aborted accepts
  // complete; until then they still touch the listeners.
  co_await accept_loops_.join();
  logger_->info("edge {} stopped", config_.edge.id);
}

std::size_t Edge::session_count(std::string_view tunnel) const {
  return registry_ ? registry_->count(tunnel) : 0;
}

}  // namespace dialback::edge
