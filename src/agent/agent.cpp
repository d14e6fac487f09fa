#include "agent/agent.hpp"

#include <algorithm>
#include <vector>

#include "agent/auto_transport_dialer.hpp"
#include "agent/backoff.hpp"
#include "agent/make_upstream.hpp"
#include "agent/tcp_upstream.hpp"
#include "agent/upstream_router.hpp"
#include "auth/authorization_header.hpp"
#include "config/no_proxy_list.hpp"
#include "transport/envoy/envoy_dialer.hpp"
#include "transport/h2/registration_dialer.hpp"
#include "transport/poll/poll_dialer.hpp"
#include "transport/quic/h3_dialer.hpp"
#include "transport/quic/h3_registration.hpp"
#include "transport/reverst/reverst_handshake.hpp"
#include "transport/rhttp/rhttp_dialer.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHealthyAfter = std::chrono::minutes(1);

bool is_fatal(const RegistrationRejection& rejection) {
  return rejection.status == 400 || rejection.status == 401 || rejection.status == 403 ||
         rejection.status == 404;
}

}  // namespace

// What a slot waits on while its session runs.
struct Agent::SlotSignal {
  explicit SlotSignal(asio::any_io_executor executor) : event(std::move(executor)) {}
  AsyncEvent event;
  bool ended = false;
  bool goaway = false;
};

struct Agent::Attempt {
  bool connected = false;
  std::optional<RegistrationRejection> fatal;
  std::optional<int> retry_after_seconds;
};

Agent::Agent(asio::any_io_executor executor, AgentConfig config, Logger logger,
             StreamHandler handler)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      logger_(std::move(logger)),
      handler_(std::move(handler)),
      rng_(std::random_device{}()),
      changed_(executor_),
      trimmer_(executor_) {
  add_dialer(AgentTransport::h2, std::make_unique<h2::RegistrationDialer>());
  add_dialer(AgentTransport::rhttp, std::make_unique<rhttp::RhttpDialer>());
  add_dialer(AgentTransport::envoy, std::make_unique<envoy::EnvoyDialer>());
  add_dialer(AgentTransport::poll, std::make_unique<poll::PollDialer>(config_.poll));
  if (!handler_) {
    const UpstreamTimeouts timeouts{config_.upstream_connect_timeout,
                                    config_.upstream_response_timeout};
    std::vector<UpstreamRouter::Route> routes;
    for (const AgentRoute& route : config_.routes) {
      logger_->info("route {} -> {}{}", route.prefix, route.upstream.url,
                    route.host_rewrite.empty() ? "" : " (Host: " + route.host_rewrite + ")");
      routes.push_back({route.prefix, make_upstream(route, executor_, timeouts, logger_)});
    }
    std::unique_ptr<Upstream> tcp;
    if (config_.tcp) {
      logger_->info("raw TCP -> {}{}", to_string(config_.tcp->address),
                    config_.tcp->proxy_protocol == ProxyProtocol::v2 ? " (PROXY protocol v2)" : "");
      tcp = std::make_unique<TcpUpstream>(executor_, *config_.tcp, config_.upstream_connect_timeout,
                                          logger_);
    }
    router_ = std::make_unique<UpstreamRouter>(std::move(routes), std::move(tcp), logger_);
    handler_ = [router = router_.get()](std::unique_ptr<IncomingStream> stream) {
      return router->serve(std::move(stream));
    };
  }
}

Agent::~Agent() = default;

void Agent::add_dialer(AgentTransport transport, std::unique_ptr<SessionDialer> dialer) {
  dialers_[transport] = std::move(dialer);
}

tl::expected<void, std::string> Agent::start(const std::optional<ClientTlsPem>& pem) {
  // QUIC's TLS is GnuTLS (ngtcp2's crypto helper), with the same files;
  // the credentials offer one ALPN, so each QUIC dialer has its own.
  auto quic_credentials = [&](std::string_view alpn) {
    return pem ? quic::QuicTlsCredentials::client_from_pem(
                     pem->ca_pem.value_or(""), pem->cert_pem.value_or(""),
                     pem->key_pem.value_or(""), std::string(alpn))
               : quic::QuicTlsCredentials::client(config_.ca, config_.cert, config_.key,
                                                  std::string(alpn));
  };
  auto add_quic_dialer = [&](AgentTransport transport,
                             std::unique_ptr<quic::QuicRegistrationClient> registration)
      -> tl::expected<void, std::string> {
    const bool used = std::any_of(config_.edges.begin(), config_.edges.end(),
                                  [&](const auto& edge) { return edge.transport == transport; });
    if (!used || dialers_.contains(transport)) return {};
    auto credentials = quic_credentials(registration->alpn());
    if (!credentials) return tl::unexpected(credentials.error());
    add_dialer(transport,
               std::make_unique<quic::H3Dialer>(std::move(registration), std::move(*credentials),
                                                quic::engine_settings(config_.quic)));
    return {};
  };
  if (auto added =
          add_quic_dialer(AgentTransport::h3, std::make_unique<quic::H3RegistrationClient>());
      !added) {
    return added;
  }
  const bool uses_auto =
      std::any_of(config_.edges.begin(), config_.edges.end(),
                  [](const auto& edge) { return edge.transport == AgentTransport::automatic; });
  if (uses_auto && !dialers_.contains(AgentTransport::automatic)) {
    auto credentials = quic_credentials(quic::kAlpnDialbackH3);
    if (!credentials) return tl::unexpected(credentials.error());
    quic::QuicEngineSettings settings = quic::engine_settings(config_.quic);
    settings.handshake_timeout = config_.auto_transport.fallback_after;
    add_dialer(AgentTransport::automatic,
               std::make_unique<AutoTransportDialer>(
                   std::make_unique<quic::H3Dialer>(std::make_unique<quic::H3RegistrationClient>(),
                                                    std::move(*credentials), settings),
                   std::make_unique<h2::RegistrationDialer>(),
                   std::make_unique<poll::PollDialer>(config_.poll), config_.auto_transport));
  }
  if (auto added = add_quic_dialer(AgentTransport::reverst,
                                   std::make_unique<reverst::ReverstRegistrationClient>());
      !added) {
    return added;
  }
  for (const auto& edge : config_.edges) {
    if (!dialers_.contains(edge.transport)) {
      return tl::unexpected("no dialer for transport " + std::string(to_string(edge.transport)));
    }
  }
  // Each dialer offers its own ALPN on its connections.
  const AlpnSet alpn = AlpnSet::none;
  if (pem) {
    auto tls = make_client_context(*pem, alpn);
    if (!tls) return tl::unexpected("TLS setup: " + tls.error().message());
    tls_.emplace(std::move(*tls));
  } else {
    ClientTlsFiles files;
    if (!config_.ca.empty()) files.ca = config_.ca;
    if (!config_.cert.empty()) files.cert = config_.cert;
    if (!config_.key.empty()) files.key = config_.key;
    // The error names the key and the file ("cert: cannot read /x: ...").
    auto tls = make_client_context(files, alpn, "");
    if (!tls) return tl::unexpected(tls.error().message());
    tls_.emplace(std::move(*tls));
  }
  choose_proxies();
  for (std::size_t i = 0; i < config_.edges.size(); ++i) {
    for (int slot = 0; slot < config_.edges[i].connections; ++slot) {
      tasks_.spawn(run_slot(i));
    }
  }
  return {};
}

void Agent::choose_proxies() {
  const AgentProxyConfig& proxy = config_.proxy;
  const NoProxyList no_proxy = NoProxyList::parse(proxy.no_proxy);
  edge_proxies_.clear();
  for (const EdgeTargetConfig& edge : config_.edges) {
    const std::string where = edge.host + ":" + std::to_string(edge.port);
    if (!proxy.url || no_proxy.matches(edge.host)) {
      if (proxy.url) logger_->info("edge {}: dialed directly (NO_PROXY)", where);
      edge_proxies_.emplace_back();
      continue;
    }
    switch (edge.transport) {
      case AgentTransport::h3:
      case AgentTransport::reverst:
        logger_->warn("edge {}: {} is QUIC (UDP) and cannot use the proxy {} ({})", where,
                      to_string(edge.transport), proxy.url->display(), proxy.source);
        break;
      case AgentTransport::automatic:
        logger_->info("edge {}: h3 dialed directly, h2 through the proxy {} ({})", where,
                      proxy.url->display(), proxy.source);
        break;
      default:
        logger_->info("edge {}: through the proxy {} ({})", where, proxy.url->display(),
                      proxy.source);
    }
    edge_proxies_.push_back(proxy.url);
  }
}

Task<void> Agent::wait_connected(std::size_t count) {
  while (connected_ < count && !stopping_) co_await changed_.wait();
}

Task<void> Agent::shutdown(Clock::time_point deadline) {
  stopping_ = true;
  changed_.notify();
  logger_->info("agent draining {} session(s)", live_.size());
  dialing_.close_all();  // dials in progress fail now
  for (auto* session : live_) tasks_.spawn(session->drain(deadline));
  while (!live_.empty()) co_await changed_.wait();
  // The sessions are gone: requests still being served were cut off. Make
  // their handlers return instead of waiting for the local service.
  if (router_) router_->abort();
  co_await tasks_.join();
  logger_->info("agent stopped");
}

void Agent::fatal(const RegistrationRejection& rejection) {
  if (stopping_) return;
  stopping_ = true;
  changed_.notify();
  for (auto* session : live_) session->close(Error::cancelled);
  if (on_fatal_) on_fatal_(rejection);
}

void Agent::serve_stream(std::unique_ptr<IncomingStream> stream) {
  ++streams_serving_;
  tasks_.spawn(handler_(std::move(stream)), [this] {
    // After a burst (a flood of streams the edge reset included), glibc
    // would keep the memory it used for the life of the process.
    if (--streams_serving_ == 0) trimmer_.released();
  });
}

Task<void> Agent::run_slot(std::size_t edge_index) {
  const EdgeTargetConfig& edge = config_.edges[edge_index];
  Backoff backoff(std::chrono::milliseconds(500), std::chrono::seconds(30), [this] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  });
  while (!stopping_) {
    auto signal = std::make_shared<SlotSignal>(executor_);
    const auto started = Clock::now();
    Attempt attempt = co_await open_session(edge_index, signal);
    if (attempt.fatal) {
      fatal(*attempt.fatal);
      co_return;
    }
    if (attempt.connected) {
      while (!signal->ended && !signal->goaway && !stopping_) co_await signal->event.wait();
      if (stopping_) co_return;
      if (signal->goaway) {  // the edge drains: open the replacement now
        backoff.reset();
        continue;
      }
      if (Clock::now() - started >= kHealthyAfter) backoff.reset();
    }
    auto delay = backoff.next();
    if (attempt.retry_after_seconds) {
      delay = std::chrono::seconds(*attempt.retry_after_seconds) + delay / 4;
    }
    logger_->info("reconnecting to {}:{} in {} ms", edge.host, edge.port, delay.count());
    const auto until = Clock::now() + delay;
    while (!stopping_ && Clock::now() < until) co_await changed_.wait_until(until);
  }
}

Task<Agent::Attempt> Agent::open_session(std::size_t edge_index,
                                         std::shared_ptr<SlotSignal> signal) {
  const EdgeTargetConfig& edge = config_.edges[edge_index];
  Attempt result;
  DialRequest request;
  request.executor = executor_;
  request.tls = &*tls_;
  request.identity.tunnel = config_.tunnel;
  request.identity.node = config_.agent.node;
  request.identity.cluster = config_.agent.cluster.empty() ? config_.tunnel : config_.agent.cluster;
  request.identity.tenant = config_.agent.tenant;
  request.identity.labels = config_.agent.labels;
  request.identity.session_id = generate_session_id();
  // Basic (user and password) or Bearer (token); nothing with mTLS alone.
  if (!config_.user.empty()) {
    request.authorization = basic_authorization(config_.user, config_.password);
  } else if (!config_.token.empty()) {
    request.authorization = bearer_authorization(config_.token);
  }
  request.allocation = config_.allocation;
  request.settings.ping_interval = config_.ping_interval;
  request.settings.ping_timeout = config_.ping_timeout;
  request.settings.windows = config_.windows;
  request.logger = logger_;
  request.pending = &dialing_;
  if (const auto& proxy = edge_proxies_[edge_index]) request.proxy = &*proxy;
  request.on_stream = [this](std::unique_ptr<IncomingStream> stream) {
    serve_stream(std::move(stream));
  };
  request.on_goaway = [signal] {
    signal->goaway = true;
    signal->event.notify();
  };
  DialOutcome outcome = co_await dialers_.at(edge.transport)->dial(edge, std::move(request));
  const std::string where = edge.host + ":" + std::to_string(edge.port);
  if (outcome.rejection) {
    const auto& rejection = *outcome.rejection;
    if (is_fatal(rejection)) {
      logger_->error("edge {} refused tunnel '{}': {} {}: {}", where, config_.tunnel,
                     rejection.status, rejection.code, rejection.message);
      result.fatal = rejection;
    } else {
      logger_->warn("edge {} refused the session for now: {} {}: {}", where, rejection.status,
                    rejection.code, rejection.message);
      result.retry_after_seconds = rejection.retry_after_seconds;
    }
    co_return result;
  }
  if (!outcome.session) co_return result;
  if (stopping_) co_return result;
  tasks_.spawn(run_session(std::move(outcome.session), signal));
  result.connected = true;
  co_return result;
}

Task<void> Agent::run_session(std::unique_ptr<Session> session,
                              std::shared_ptr<SlotSignal> signal) {
  const auto& id = session->identity();
  auto self = live_.insert(live_.end(), session.get());
  // shutdown() ran between the dial and here: it did not see this session.
  if (stopping_) session->close(Error::cancelled);
  ++connected_;
  changed_.notify();
  logger_->info("session {} connected to {} (tunnel={} node={})", id.session_id, id.peer_address,
                id.tunnel, id.node);
  const auto reason = co_await session->run();
  --connected_;
  live_.erase(self);
  changed_.notify();
  logger_->info("session {} to {} ended: {}", id.session_id, id.peer_address, reason.message());
  signal->ended = true;
  signal->event.notify();
}

}  // namespace dialback::agent
