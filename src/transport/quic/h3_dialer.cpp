#include "transport/quic/h3_dialer.hpp"

#include "transport/registration_exchange.hpp"

#include "transport/quic/h3_registration.hpp"  // kMaxRegistrationBytes
#include "transport/quic/quic_client.hpp"

namespace dialback::quic {

using Clock = std::chrono::steady_clock;

Task<std::optional<udp::endpoint>> resolve_udp(asio::any_io_executor executor,
                                               const EdgeTargetConfig& edge, const Logger& logger) {
  const std::uint16_t port = edge.quic_port != 0 ? edge.quic_port : edge.port;
  error_code ec;
  const auto literal = asio::ip::make_address(edge.host, ec);
  if (!ec) co_return udp::endpoint(literal, port);
  udp::resolver resolver(executor);
  auto resolved = co_await resolver.async_resolve(edge.host, std::to_string(port), nothrow(ec));
  if (ec || resolved.empty()) {
    logger->warn("cannot resolve edge {}:{}: {}", edge.host, port,
                 ec ? ec.message() : "no address");
    co_return std::nullopt;
  }
  co_return resolved.begin()->endpoint();
}

Task<DialOutcome> H3Dialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  DialOutcome outcome;
  const std::string where =
      edge.host + ":" + std::to_string(edge.quic_port != 0 ? edge.quic_port : edge.port);
  const auto address = co_await resolve_udp(request.executor, edge, request.logger);
  if (!address) co_return outcome;
  auto session = tls_->client_session(edge.tls_name());
  if (!session) co_return outcome;
  QuicEngineSettings settings = settings_;
  auto client = QuicClient::connect(request.executor, *address, settings, std::move(*session),
                                    request.logger);
  if (!client) {
    request.logger->warn("cannot open a QUIC socket to edge {}: {}", where,
                         client.error().message());
    co_return outcome;
  }
  QuicConnection& connection = (*client)->connection();
  const auto deadline = Clock::now() + settings.handshake_timeout;
  std::string failure;
  const bool handshaken = co_await connection.handshake(deadline);
  if (!handshaken) {
    failure = connection.engine().end_reason() ? connection.engine().end_reason().message()
                                               : "no QUIC handshake in time";
  } else {
    (void)connection.send_registration(registration_->request(edge, request), true);
    const QuicRegistrationClient* protocol = registration_.get();
    auto answer = co_await connection.read_registration(
        deadline, kMaxRegistrationBytes,
        [protocol](std::string_view so_far) { return protocol->complete(so_far); });
    const auto& closed = connection.engine().peer_close();
    if (!answer && closed) {
      outcome.rejection = registration_->closed(closed->first, closed->second);
    } else if (!answer) {
      failure = "registration: " + answer.error().message();
    } else if (auto accepted = registration_->answer(*answer); !accepted) {
      outcome.rejection = accepted.error();
    } else {
      request.logger->debug("edge {} ({}) accepted {} session {}; routes: {}", where,
                            accepted->edge_id, registration_->name(), request.identity.session_id,
                            accepted->routes);
      log_allocation(request, where, accepted->routes);
      SessionIdentity named = request.identity;
      named.peer_address = where;
      connection.set_identity(std::move(named));
      connection.set_incoming_handler(std::move(request.on_stream));
      connection.set_goaway_handler(std::move(request.on_goaway));
      outcome.session = std::move(*client);
      co_return outcome;
    }
  }
  if (!failure.empty())
    request.logger->warn("QUIC session with edge {} failed: {}", where, failure);
  // Close, and let the connection's loops end before it goes.
  (*client)->close(Error::cancelled);
  co_await (*client)->run();
  co_return outcome;
}

Task<bool> H3Dialer::probe(const EdgeTargetConfig& edge, asio::any_io_executor executor,
                           Logger logger) {
  const auto address = co_await resolve_udp(executor, edge, logger);
  if (!address) co_return false;
  auto session = tls_->client_session(edge.tls_name());
  if (!session) co_return false;
  auto client = QuicClient::connect(executor, *address, settings_, std::move(*session), logger);
  if (!client) co_return false;
  const bool done =
      co_await (*client)->connection().handshake(Clock::now() + settings_.handshake_timeout);
  (*client)->close(Error::cancelled);
  co_await (*client)->run();
  co_return done;
}

}  // namespace dialback::quic
