#include "agent/agent.hpp"

#include <vector>

#include "agent/backoff.hpp"
#include "agent/make_upstream.hpp"
#include "agent/upstream_router.hpp"
#include "core/watchdog.hpp"
#include "tls/tls_stream.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDialTimeout = std::chrono::seconds(10);
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
  if (!handler_) {
    const UpstreamTimeouts timeouts{config_.upstream_connect_timeout,
                                    config_.upstream_response_timeout};
    std::vector<UpstreamRouter::Route> routes;
    for (const AgentRoute& route : config_.routes) {
      logger_->info("route {} -> {}{}", route.prefix, route.upstream.url,
                    route.host_rewrite.empty() ? "" : " (Host: " + route.host_rewrite + ")");
      routes.push_back({route.prefix, make_upstream(route, executor_, timeouts, logger_)});
    }
    router_ = std::make_unique<UpstreamRouter>(std::move(routes), logger_);
    handler_ = [router = router_.get()](std::unique_ptr<IncomingStream> stream) {
      return router->serve(std::move(stream));
    };
  }
}

Agent::~Agent() = default;

tl::expected<void, std::string> Agent::start(const std::optional<ClientTlsPem>& pem) {
  const AlpnSet alpn = config_.edges.front().transport == AgentTransport::rhttp
                           ? AlpnSet::rhttp_client
                           : AlpnSet::h2_transport_client;
  Result<asio::ssl::context> tls = [&] {
    if (pem) return make_client_context(*pem, alpn);
    ClientTlsFiles files;
    if (!config_.ca.empty()) files.ca = config_.ca;
    if (!config_.cert.empty()) files.cert = config_.cert;
    if (!config_.key.empty()) files.key = config_.key;
    return make_client_context(files, alpn);
  }();
  if (!tls) return tl::unexpected("TLS setup: " + tls.error().message());
  tls_.emplace(std::move(*tls));
  for (std::size_t i = 0; i < config_.edges.size(); ++i) {
    for (int slot = 0; slot < config_.edges[i].connections; ++slot) {
      spawn_tracked(run_slot(i));
    }
  }
  return {};
}

Task<void> Agent::wait_connected(std::size_t count) {
  while (connected_ < count && !stopping_) co_await changed_.wait();
}

Task<void> Agent::shutdown(Clock::time_point deadline) {
  stopping_ = true;
  changed_.notify();
  logger_->info("agent draining {} session(s)", live_.size());
  error_code ignored;
  for (auto* socket : *dialing_) socket->close(ignored);  // dials in progress fail now
  for (auto* connection : live_) {
    asio::co_spawn(executor_, connection->drain(deadline), asio::detached);
  }
  while (!live_.empty()) co_await changed_.wait();
  // The sessions are gone: requests still being served were cut off. Make
  // their handlers return instead of waiting for the local service.
  if (router_) router_->abort();
  while (tasks_running_ > 0) co_await changed_.wait();
  logger_->info("agent stopped");
}

void Agent::fatal(const RegistrationRejection& rejection) {
  if (stopping_) return;
  stopping_ = true;
  changed_.notify();
  for (auto* connection : live_) connection->close(Error::cancelled);
  if (on_fatal_) on_fatal_(rejection);
}

void Agent::serve_stream(std::unique_ptr<IncomingStream> stream) {
  ++streams_serving_;
  ++tasks_running_;
  asio::co_spawn(executor_, handler_(std::move(stream)), [this](std::exception_ptr) {
    --tasks_running_;
    // After a burst (a flood of streams the edge reset included), glibc
    // would keep the memory it used for the life of the process.
    if (--streams_serving_ == 0) trimmer_.released();
    changed_.notify();
  });
}

void Agent::spawn_tracked(Task<void> task) {
  ++tasks_running_;
  asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr) {
    --tasks_running_;
    changed_.notify();
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
    Attempt attempt = co_await open_session(edge, signal);
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

Task<Agent::Attempt> Agent::open_session(const EdgeTargetConfig& edge,
                                         std::shared_ptr<SlotSignal> signal) {
  Attempt result;
  const std::string where = edge.host + ":" + std::to_string(edge.port);
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const auto literal = asio::ip::make_address(edge.host, ec);
  if (!ec) {
    // No lookup for an IP literal: Asio's resolver runs getaddrinfo on a
    // thread of its own, started on first use and kept for the process.
    endpoints.emplace_back(literal, edge.port);
  } else {
    tcp::resolver resolver(executor_);
    const std::string port = std::to_string(edge.port);
    auto resolved = co_await resolver.async_resolve(edge.host, port, nothrow(ec));
    if (ec) {
      logger_->warn("cannot resolve edge {}: {}", where, ec.message());
      co_return result;
    }
    for (const auto& entry : resolved) endpoints.push_back(entry.endpoint());
  }
  TlsStream tls(executor_, *tls_);
  struct Dialing {  // listed in dialing_ while this dial is in progress
    std::shared_ptr<std::list<tcp::socket*>> list;
    std::list<tcp::socket*>::iterator it;
    ~Dialing() { list->erase(it); }
  } dialing{dialing_, dialing_->insert(dialing_->end(), &tls.next_layer())};
  Watchdog watchdog(executor_, kDialTimeout, [&tls] {
    error_code ignored;
    tls.next_layer().close(ignored);
  });
  co_await asio::async_connect(tls.next_layer(), endpoints, nothrow(ec));
  if (ec) {
    logger_->warn("cannot connect to edge {}: {}", where, watchdog.fired() ? "timed out" : ec.message());
    co_return result;
  }
  tls.next_layer().set_option(tcp::no_delay(true), ec);
  if (auto prepared = prepare_client_stream(tls.native_handle(), edge.tls_name()); !prepared) {
    logger_->error("TLS setup for edge {}: {}", where, prepared.error().message());
    co_return result;
  }
  co_await tls.async_handshake(asio::ssl::stream_base::client, nothrow(ec));
  if (ec) {
    logger_->error("TLS handshake with edge {} failed: {}", where,
                   watchdog.fired() ? "timed out" : ec.message());
    co_return result;
  }

  SessionIdentity identity;
  identity.tunnel = config_.tunnel;
  identity.node = config_.agent.node;
  identity.cluster = config_.agent.cluster.empty() ? config_.tunnel : config_.agent.cluster;
  identity.tenant = config_.agent.tenant;
  identity.labels = config_.agent.labels;
  identity.session_id = generate_session_id();
  identity.peer_address = where;
  std::string initial;

  if (edge.transport == AgentTransport::h2) {
    RegistrationRequest registration;
    registration.host = edge.tls_name();
    registration.tunnel = identity.tunnel;
    registration.node = identity.node;
    registration.cluster = identity.cluster;
    registration.tenant = identity.tenant;
    registration.labels = identity.labels;
    registration.session_id = identity.session_id;
    if (!config_.token.empty()) registration.authorization = "Bearer " + config_.token;
    registration.user_agent = "dialback-agent/0.1";
    auto request = build_registration_request(registration);
    co_await http::async_write(tls, request, nothrow(ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    if (!ec) co_await http::async_read_header(tls, buffer, parser, nothrow(ec));
    if (!ec && !parser.is_done()) co_await http::async_read(tls, buffer, parser, nothrow(ec));
    if (ec) {
      logger_->warn("registration with edge {} failed: {}", where,
                    watchdog.fired() ? "timed out" : ec.message());
      co_return result;
    }
    auto outcome = parse_registration_response(parser.get());
    if (!outcome) {
      const auto& rejection = outcome.error();
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
    initial.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
    logger_->debug("edge {} ({}) accepted session {}; routes: {}", where, outcome->edge_id,
                   identity.session_id, outcome->routes);
  }
  watchdog.disarm();
  if (stopping_) co_return result;

  h2::H2Connection::Options options;
  options.role = h2::Role::server;
  options.preface = edge.transport == AgentTransport::rhttp ? h2::PrefaceMode::reversed
                                                            : h2::PrefaceMode::standard;
  options.liveness = {config_.ping_interval, config_.ping_timeout};
  // Conformant toward the edge as toward any HTTP/2 client (late frames on
  // closed streams get STREAM_CLOSED, decreasing stream ids are refused):
  // the agent has a handful of sessions, so their closed streams cost little.
  options.h2.strict = true;
  options.h2.stream_window = config_.windows.stream;
  options.h2.connection_window = config_.windows.connection;
  auto connection = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<TlsStream>>(std::move(tls)), options, std::move(identity),
      logger_);
  connection->set_incoming_handler(
      [this](std::unique_ptr<IncomingStream> stream) { serve_stream(std::move(stream)); });
  connection->set_goaway_handler([signal] {
    signal->goaway = true;
    signal->event.notify();
  });
  asio::co_spawn(executor_, run_connection(std::move(connection), std::move(initial), signal),
                 asio::detached);
  result.connected = true;
  co_return result;
}

Task<void> Agent::run_connection(std::unique_ptr<h2::H2Connection> connection,
                                 std::string initial, std::shared_ptr<SlotSignal> signal) {
  const auto& id = connection->identity();
  auto self = live_.insert(live_.end(), connection.get());
  // shutdown() ran between open_session() and here: it did not see this session.
  if (stopping_) connection->close(Error::cancelled);
  ++connected_;
  changed_.notify();
  logger_->info("session {} connected to {} (tunnel={} node={})", id.session_id, id.peer_address,
                id.tunnel, id.node);
  const auto reason = co_await connection->run(std::move(initial));
  --connected_;
  live_.erase(self);
  changed_.notify();
  logger_->info("session {} to {} ended: {}", id.session_id, id.peer_address, reason.message());
  signal->ended = true;
  signal->event.notify();
}

}  // namespace dialback::agent
