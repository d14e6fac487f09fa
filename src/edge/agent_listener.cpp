#include "edge/agent_listener.hpp"

#include "edge/allocations.hpp"

#include <array>

#include "core/watchdog.hpp"
#include "edge/admission.hpp"
#include "tls/alpn.hpp"
#include "tls/certificate_names.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

std::string peer_of(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
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
      external_auth_(executor),
      listener_(executor, "agent listener", logger_),
      sessions_changed_(executor),
      drains_(executor, logger_, "agent listener drains"),
      trimmer_(executor) {}

void AgentListener::add_acceptor(std::unique_ptr<SessionAcceptor> acceptor) {
  acceptors_.push_back(std::move(acceptor));
}

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
    drains_.spawn(session->drain(deadline));
  }
  while (live_ > 0) co_await sessions_changed_.wait();
  co_await drains_.join();
  // A connection accepted just before stop() starts its serve() later.
  co_await listener_.join();
}

Task<void> AgentListener::serve(tcp::socket socket) {
  // Counted from the first byte, not from registration: drain() must also
  // wait for connections still in their handshake, which use this listener.
  ++live_;
  AcceptedSession accepted = co_await register_agent(std::move(socket));
  if (accepted.session) co_await run_registered(std::move(accepted));
  trimmer_.released();
  --live_;
  sessions_changed_.notify();
}

Task<AcceptedSession> AgentListener::register_agent(tcp::socket socket) {
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
    co_return AcceptedSession{};
  }
  const auto deadline = Clock::now() + config_.agents.handshake_timeout;
  AgentConnection connection{TlsStream(std::move(socket), tls_)};
  connection.peer = peer;
  connection.source = source;
  connection.deadline = deadline;
  TlsStream& tls = connection.tls;
  std::optional<Watchdog> watchdog(std::in_place, executor_, config_.agents.handshake_timeout,
                                   [&tls] {
                                     error_code ignored;
                                     tls.next_layer().close(ignored);
                                   });
  error_code ec;
  co_await tls.async_handshake(asio::ssl::stream_base::server, nothrow(ec));
  if (ec) {
    ++counters_.agent_handshakes_failed;
    gate_.log_refusal(
        source, peer,
        std::string("TLS handshake failed: ") + (watchdog->fired() ? "timed out" : ec.message()),
        Clock::now());
    co_return AcceptedSession{};
  }
  connection.alpn = negotiated_alpn(tls.native_handle());
  connection.cert_names = peer_certificate_names(tls.native_handle());

  // Every transport's agent speaks first: its first bytes choose the acceptor.
  SessionAcceptor* chosen = nullptr;
  std::array<char, 512> chunk;
  while (chosen == nullptr) {
    bool undecided = false;
    for (const auto& acceptor : acceptors_) {
      const auto claim = acceptor->claims(connection.alpn, connection.initial);
      if (claim == SessionAcceptor::Claim::yes) {
        chosen = acceptor.get();
        break;
      }
      if (claim == SessionAcceptor::Claim::need_more_bytes) {
        undecided = true;
        break;  // an earlier acceptor has the first say
      }
    }
    if (chosen != nullptr) break;
    if (!undecided && !connection.initial.empty()) {
      gate_.failed(source, Clock::now());
      gate_.log_refusal(source, peer, "agent connection closed: no transport speaks what it sent",
                        Clock::now());
      co_return AcceptedSession{};
    }
    const std::size_t n = co_await tls.async_read_some(asio::buffer(chunk), nothrow(ec));
    if (ec) {
      logger_->info("agent {} sent no registration: {}", peer,
                    watchdog->fired() ? "timed out" : ec.message());
      co_return AcceptedSession{};
    }
    connection.initial.append(chunk.data(), n);
  }
  watchdog.reset();  // the acceptor bounds its registration by connection.deadline
  co_return co_await chosen->accept(std::move(connection), *this);
}

Task<tl::expected<AdmissionGrant, RegistrationRejection>> AgentListener::admit(
    const AgentPeer& from, std::string_view transport, const ParsedClaim& claim) {
  auto now = Clock::now();
  AdmissionState state;
  state.over_failure_budget = gate_.over_failure_budget(from.source, now);
  if (state.over_failure_budget) {
    ++counters_.registrations_rate_limited;
    state.retry_after_seconds = gate_.retry_after(from.source, now);
  }
  state.draining = stopping_;
  state.max_sessions_per_tunnel = static_cast<std::size_t>(config_.agents.max_sessions_per_tunnel);
  state.sessions = [this](std::string_view tunnel) { return registry_.count(tunnel); };
  const CredentialStep step = check_credentials(claim, tunnels_, state);
  tl::expected<Admitted, RegistrationRejection> decided;
  std::string external_reason;  // for the refusal log; never a credential
  if (const auto* rejection = std::get_if<RegistrationRejection>(&step)) {
    decided = tl::unexpected(*rejection);
  } else if (const auto* ask = std::get_if<AskExternal>(&step)) {
    const TunnelEntry& entry = tunnels_[ask->tunnel];
    const ExternalAuthQuery query = make_external_auth_query(*claim, entry, transport);
    const ExternalAuthAnswer answer =
        co_await external_auth_.check(*entry.external, query, from.deadline - Clock::now());
    // Logged with the refusal below (sampled per source); an allowed
    // session's own log line follows when it opens.
    external_reason = "external auth " + entry.external->url.display() + ": " + answer.reason;
    now = Clock::now();
    state.draining = stopping_;  // may have changed while the endpoint answered
    decided = finish_admission(*claim, Admitted{ask->tunnel}, answer.verdict, tunnels_, state);
  } else {
    decided = finish_admission(*claim, std::get<Admitted>(step), ExternalVerdict::allowed, tunnels_,
                               state);
  }
  // Ports and host names asked for: granted last, by a tunnel that allows it.
  std::string allocated;
  if (decided && !claim->allocation.empty()) {
    auto routes =
        allocations_ != nullptr
            ? allocations_->acquire(decided->tunnel, claim->identity.node, claim->allocation)
            : tl::unexpected(
                  RegistrationRejection::bad_request("tunnel " + tunnels_[decided->tunnel].name +
                                                     " does not allocate ports or host names"));
    if (routes) {
      allocated = std::move(*routes);
    } else {
      decided = tl::unexpected(std::move(routes.error()));
    }
  }
  if (!decided) {
    const auto& rejection = decided.error();
    ++counters_.registrations_rejected;
    if (!state.over_failure_budget && counts_as_failure(rejection)) gate_.failed(from.source, now);
    std::string tunnel = "?";
    if (claim) {
      switch (claim->named_by) {
        case TunnelNamedBy::name: tunnel = "'" + claim->identity.tunnel + "'"; break;
        case TunnelNamedBy::certificate: tunnel = "(by certificate)"; break;
        case TunnelNamedBy::envoy_cluster:
          tunnel = "(envoy cluster '" + claim->identity.cluster + "')";
          break;
        case TunnelNamedBy::reverst_group:
          tunnel = "(reverst group '" + claim->identity.tunnel + "')";
          break;
      }
    }
    gate_.log_refusal(from.source, from.peer,
                      fmt::format("{} registration for tunnel {} refused: {} {} ({}){}", transport,
                                  tunnel, rejection.status, rejection.code, rejection.message,
                                  external_reason.empty() ? "" : "; " + external_reason),
                      now);
    co_return tl::unexpected(rejection);
  }
  const TunnelEntry& entry = tunnels_[decided->tunnel];
  AdmissionGrant grant;
  grant.tunnel = entry.name;
  grant.leases_only = decided->leases_only;
  grant.edge_id = config_.edge.id;
  grant.tenant = entry.tenant;
  for (const auto& host : entry.hosts) grant.routes += (grant.routes.empty() ? "" : ", ") + host;
  if (!allocated.empty()) grant.routes = std::move(allocated);  // what this agent got
  co_return grant;
}

void AgentListener::refused_request(const AgentPeer& from, std::string_view transport,
                                    std::string_view reason) {
  ++counters_.agent_requests_refused;
  gate_.log_refusal(from.source, from.peer,
                    fmt::format("{} request refused: {}", transport, reason), Clock::now());
}

bool AgentListener::allow_handshake(const std::string& source, const std::string& peer) {
  if (gate_.allow_handshake(source, Clock::now())) return true;
  ++counters_.agent_handshakes_refused;
  gate_.log_refusal(source, peer, "QUIC connection ignored: handshake rate over agents.limits",
                    Clock::now());
  return false;
}

Task<void> AgentListener::run_session(AcceptedSession accepted) {
  ++live_;
  co_await run_registered(std::move(accepted));
  trimmer_.released();
  --live_;
  sessions_changed_.notify();
}

Task<void> AgentListener::run_registered(AcceptedSession accepted) {
  TunnelSession& session = *accepted.session;
  const auto& id = session.identity();
  ++counters_.sessions_accepted;
  logger_->info("session {} opened: tunnel={} node={} cluster={} tenant={} peer={}",
                id.session_id, id.tunnel, id.node, id.cluster, id.tenant, id.peer_address);
  registry_.add(accepted.tunnel, &session, accepted.leases_only);
  const auto tunnel = tunnels_.find(accepted.tunnel);
  if (allocations_ != nullptr && tunnel) allocations_->session_started(*tunnel, id.node);
  const auto reason = co_await session.run();
  if (allocations_ != nullptr && tunnel) allocations_->session_ended(*tunnel, id.node);
  registry_.remove(accepted.tunnel, &session);
  ++counters_.sessions_closed;
  if (reason == Error::protocol_error) ++counters_.sessions_protocol_errors;
  const auto stats = session.stats();
  logger_->info("session {} closed: {} (streams={} in={}B out={}B)", id.session_id,
                reason.message(), stats.streams_total, stats.bytes_in, stats.bytes_out);
}

}  // namespace dialback::edge
