#include "edge/edge.hpp"

#include "tls/tls_context.hpp"

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
  if (config_.public_.https) {
    return tl::unexpected(std::string(
        "public.https: the HTTPS public listener is not implemented yet; use public.http "
        "(see docs/configuration.md)"));
  }
  auto table = TunnelTable::build(config_.tunnels);
  if (!table) return tl::unexpected(table.error());
  tunnels_ = std::move(*table);
  std::vector<BalancePolicy> policies;
  for (const auto& tunnel : config_.tunnels) policies.push_back(tunnel.balance);
  registry_ = std::make_unique<SessionRegistry>(policies);

  Result<asio::ssl::context> tls =
      pem ? make_server_context(
                ServerTlsPem{pem->cert_pem, pem->key_pem, unless_empty(pem->client_ca_pem)},
                AlpnSet::agent_listener)
          : make_server_context(ServerTlsFiles{config_.agents.cert, config_.agents.key,
                                               unless_empty(config_.agents.client_ca)},
                                AlpnSet::agent_listener);
  if (!tls) return tl::unexpected("agent listener TLS: " + tls.error().message());
  agent_tls_.emplace(std::move(*tls));

  auto agent_ep = resolve_listen(config_.agents.listen);
  if (!agent_ep) return tl::unexpected("agents.listen: " + agent_ep.error());
  agents_ = std::make_unique<AgentListener>(executor_, *agent_tls_, config_, tunnels_, *registry_,
                                            counters_, logger_);
  auto bound = agents_->listen(*agent_ep);
  if (!bound) {
    return tl::unexpected("agents.listen " + to_string(config_.agents.listen) + ": " +
                          bound.error().message());
  }
  agent_endpoint_ = *bound;

  if (config_.public_.http) {
    auto public_ep = resolve_listen(*config_.public_.http);
    if (!public_ep) return tl::unexpected("public.http: " + public_ep.error());
    auto access = logger_->clone(logger_->name() + ".access");
    public_ = std::make_unique<PublicHttpServer>(executor_, config_, tunnels_, *registry_,
                                                 counters_, access, logger_);
    auto public_bound = public_->listen(*public_ep);
    if (!public_bound) {
      return tl::unexpected("public.http " + to_string(*config_.public_.http) + ": " +
                            public_bound.error().message());
    }
    public_endpoint_ = *public_bound;
    spawn_accept_loop(public_->accept_loop());
  }
  spawn_accept_loop(agents_->accept_loop());
  logger_->info("edge {} listening: agents on {}, public http on {}", config_.edge.id,
                agent_endpoint_.address().to_string() + ":" + std::to_string(agent_endpoint_.port()),
                public_ ? public_endpoint_.address().to_string() + ":" +
                              std::to_string(public_endpoint_.port())
                        : std::string("-"));
  return {};
}

void Edge::spawn_accept_loop(Task<void> loop) {
  ++accept_loops_;
  asio::co_spawn(executor_, std::move(loop), [this](std::exception_ptr) {
    --accept_loops_;
    accept_loops_changed_.notify();
  });
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
  while (accept_loops_ > 0) co_await accept_loops_changed_.wait();
  logger_->info("edge {} stopped", config_.edge.id);
}

std::size_t Edge::session_count(std::string_view tunnel) const {
  auto index = tunnels_.find(tunnel);
  return index && registry_ ? registry_->count(*index) : 0;
}

}  // namespace dialback::edge
