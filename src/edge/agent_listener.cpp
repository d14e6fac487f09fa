#include "edge/agent_listener.hpp"

#include "auth/authorization_header.hpp"
#include "core/watchdog.hpp"
#include "tls/tls_context.hpp"
#include "tls/alpn.hpp"
#include "tls/certificate_names.hpp"
#include "tls/tls_stream.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

std::string peer_of(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// Decides a registration: the tunnel index, or the rejection to send.
// Every refusal before the credential is proven valid for *some* tunnel is
// the same 401 with the same text, whether the tunnel exists or not (and
// whatever client certificate came with it): tunnel names cannot be probed.
// A caller with a valid credential learns 404 (no such tunnel) or 403 (not
// this one), never the names of tunnels it may not use.
tl::expected<std::size_t, RegistrationRejection> admit(const RegistrationRequest& request,
                                                       const Credentials& credentials,
                                                       const TunnelTable& tunnels) {
  auto tunnel = tunnels.find(request.tunnel);
  if (tunnel && authorize(tunnels[*tunnel].auth, credentials) == AuthOutcome::allowed) {
    return *tunnel;
  }
  if (!tunnels.accepted_anywhere(credentials)) {
    return tl::unexpected(RegistrationRejection::unauthorized("missing or invalid credential"));
  }
  if (!tunnel) {
    return tl::unexpected(RegistrationRejection::unknown_tunnel("no such tunnel"));
  }
  return tl::unexpected(
      RegistrationRejection::forbidden("credential not valid for the requested tunnel"));
}

// The registration refusals that count against the source's failure budget.
bool counts_as_failure(const RegistrationRejection& rejection) {
  return rejection.status == 400 || rejection.status == 401 || rejection.status == 403 ||
         rejection.status == 404;
}

}  // namespace

AgentListener::AgentListener(asio::any_io_executor executor, asio::ssl::context& tls,
                             const EdgeConfig& config, const TunnelTable& tunnels,
                             SessionRegistry& registry, EdgeCounters& counters, Logger logger)
    : executor_(executor),
      tls_(tls),
      config_(config),
      tunnels_(tunnels),
      registry_(registry),
      counters_(counters),
      logger_(std::move(logger)),
      gate_(config.agents.limits, logger_),
      listener_(executor, "agent listener", logger_),
      sessions_changed_(executor),
      trimmer_(executor) {}

Result<tcp::endpoint> AgentListener::listen(const tcp::endpoint& endpoint) {
  return listener_.listen(endpoint);
}

Task<void> AgentListener::accept_loop() {
  return listener_.accept_loop([this](tcp::socket socket) { return serve(std::move(socket)); });
}

void AgentListener::stop() {
  stopping_ = true;
  listener_.stop();
}

Task<void> AgentListener::drain(Clock::time_point deadline) {
  // Each session drains on its own; a session removes itself when it ends.
  for (auto* session : registry_.all()) {
    asio::co_spawn(executor_, session->drain(deadline), asio::detached);
  }
  while (live_ > 0) co_await sessions_changed_.wait();
}

Task<void> AgentListener::serve(tcp::socket socket) {
  // Counted from the first byte, not from registration: drain() must also
  // wait for connections still in their handshake, which use this listener.
  ++live_;
  std::optional<Admitted> admitted = co_await register_agent(std::move(socket));
  if (admitted) {
    auto connection = std::move(admitted->connection);
    std::string initial = std::move(admitted->initial);
    const std::size_t tunnel = admitted->tunnel;
    admitted.reset();
    co_await run_session(std::move(connection), tunnel, std::move(initial));
  }
  trimmer_.released();
  --live_;
  sessions_changed_.notify();
}

Task<std::optional<AgentListener::Admitted>> AgentListener::register_agent(tcp::socket socket) {
  error_code option_ec;  // must not throw: serve() has to see this return
  socket.set_option(tcp::no_delay(true), option_ec);
  const std::string peer = peer_of(socket);
  const auto remote = socket.remote_endpoint(option_ec);
  const std::string source = option_ec ? peer : source_key(remote.address());
  if (!gate_.allow_handshake(source, Clock::now())) {
    // Closed before the TLS handshake: a flood costs an accept, not a handshake.
    ++counters_.agent_handshakes_refused;
    gate_.log_refusal(source, peer,
                      "connection closed before TLS: handshake rate over agents.limits",
                      Clock::now());
    co_return std::nullopt;
  }
  TlsStream tls(std::move(socket), tls_);
  Watchdog watchdog(executor_, config_.agents.handshake_timeout, [&tls] {
    error_code ignored;
    tls.next_layer().close(ignored);
  });

  error_code ec;
  co_await tls.async_handshake(asio::ssl::stream_base::server, nothrow(ec));
  if (ec) {
    ++counters_.agent_handshakes_failed;
    gate_.log_refusal(
        source, peer,
        std::string("TLS handshake failed: ") + (watchdog.fired() ? "timed out" : ec.message()),
        Clock::now());
    co_return std::nullopt;
  }
  const std::string alpn = negotiated_alpn(tls.native_handle());
  Credentials credentials{std::nullopt, peer_certificate_names(tls.native_handle())};

  SessionIdentity identity;
  identity.peer_address = peer;
  h2::H2Connection::Options options;
  options.liveness = {config_.agents.ping_interval, config_.agents.ping_timeout};
  options.h2.stream_window = config_.agents.windows.stream;
  options.h2.connection_window = config_.agents.windows.connection;
  options.h2.max_header_list_size =
      static_cast<std::uint32_t>(config_.agents.max_response_header_bytes);
  std::size_t tunnel = 0;
  std::string initial;

  if (alpn == "h2") {  // rhttp: the certificate is the identity (PROTOCOL.md §5)
    const bool over_budget = gate_.over_failure_budget(source, Clock::now());
    auto found = over_budget ? std::nullopt : tunnels_.find_by_certificate(credentials.cert_names);
    if (!found || stopping_) {
      ++counters_.registrations_rejected;
      if (!found && !over_budget) gate_.failed(source, Clock::now());
      gate_.log_refusal(source, peer,
                        stopping_     ? "rhttp refused: edge draining"
                        : over_budget ? "rhttp refused: too many failed registrations"
                                      : "rhttp refused: no tunnel allows its client certificate",
                        Clock::now());
      co_return std::nullopt;
    }
    tunnel = *found;
    identity.tunnel = tunnels_[tunnel].name;
    identity.node = credentials.cert_names.front();
    identity.cluster = identity.tunnel;
    identity.tenant = std::string(kDefaultTenant);
    identity.session_id = generate_session_id();
    options.preface = h2::PrefaceMode::reversed;
  } else {
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    co_await http::async_read(tls, buffer, parser, nothrow(ec));
    if (ec) {
      logger_->info("agent {} sent no registration: {}", peer,
                    watchdog.fired() ? "timed out" : ec.message());
      co_return std::nullopt;
    }
    auto request = parse_registration_request(parser.get());
    const auto authz = parser.get()[http::field::authorization];
    if (!authz.empty()) credentials.token = token_from_authorization(authz);
    tl::expected<std::size_t, RegistrationRejection> admitted;
    if (gate_.over_failure_budget(source, Clock::now())) {
      // Over the budget: 429 without looking at the request or credentials.
      ++counters_.registrations_rate_limited;
      admitted = tl::unexpected(
          RegistrationRejection::rate_limited(gate_.retry_after(source, Clock::now())));
    } else {
      admitted = request ? admit(*request, credentials, tunnels_) : tl::unexpected(request.error());
      if (!admitted && counts_as_failure(admitted.error())) gate_.failed(source, Clock::now());
    }
    if (admitted && stopping_) {
      admitted = tl::unexpected(RegistrationRejection::draining("edge is shutting down", 1));
    }
    if (admitted && registry_.count(*admitted) >=
                        static_cast<std::size_t>(config_.agents.max_sessions_per_tunnel)) {
      admitted = tl::unexpected(
          RegistrationRejection::too_many_sessions("tunnel has too many sessions", 5));
    }
    if (!admitted) {
      ++counters_.registrations_rejected;
      gate_.log_refusal(source, peer,
                        fmt::format("registration for tunnel '{}' refused: {} {} ({})",
                                    request ? request->tunnel : "?", admitted.error().status,
                                    admitted.error().code, admitted.error().message),
                        Clock::now());
      auto response = build_registration_reject(admitted.error());
      co_await http::async_write(tls, response, nothrow(ec));
      co_await tls.async_shutdown(nothrow(ec));
      co_return std::nullopt;
    }
    tunnel = *admitted;
    identity.tunnel = request->tunnel;
    identity.node = request->node;
    identity.cluster = request->cluster;
    identity.tenant = request->tenant;
    identity.labels = request->labels;
    identity.session_id = request->session_id;
    std::string routes;
    for (const auto& host : tunnels_[tunnel].hosts) routes += (routes.empty() ? "" : ", ") + host;
    auto accept = build_registration_accept(config_.edge.id, routes);
    co_await http::async_write(tls, accept, nothrow(ec));
    if (ec) co_return std::nullopt;
    initial.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  }
  watchdog.disarm();

  auto connection = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<TlsStream>>(std::move(tls)), options, std::move(identity),
      logger_);
  co_return Admitted{std::move(connection), tunnel, std::move(initial)};
}

Task<void> AgentListener::run_session(std::unique_ptr<h2::H2Connection> connection,
                                      std::size_t tunnel, std::string initial) {
  const auto& id = connection->identity();
  ++counters_.sessions_accepted;
  logger_->info("session {} opened: tunnel={} node={} cluster={} tenant={} peer={}",
                id.session_id, id.tunnel, id.node, id.cluster, id.tenant, id.peer_address);
  registry_.add(tunnel, connection.get());
  const auto reason = co_await connection->run(std::move(initial));
  registry_.remove(tunnel, connection.get());
  ++counters_.sessions_closed;
  const auto stats = connection->stats();
  logger_->info("session {} closed: {} (streams={} in={}B out={}B)", id.session_id,
                reason.message(), stats.streams_total, stats.bytes_in, stats.bytes_out);
}

}  // namespace dialback::edge
