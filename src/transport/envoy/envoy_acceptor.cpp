#include "transport/envoy/envoy_acceptor.hpp"

#include "transport/envoy/envoy_handshake.hpp"
#include "transport/envoy/rping_stream.hpp"
#include "transport/h2/tunnel_options.hpp"
#include "transport/handshake_reading.hpp"

namespace dialback::envoy {
SessionAcceptor::Claim EnvoyAcceptor::claims(std::string_view /*alpn*/,
                                             std::string_view first_bytes) const {
  const auto is_handshake = is_handshake_request(first_bytes);
  if (!is_handshake) return Claim::need_more_bytes;
  return *is_handshake ? Claim::yes : Claim::no;
}

Task<AcceptedSession> EnvoyAcceptor::accept(AgentConnection connection, Admission& admission) {
  TlsStream& tls = connection.tls;
  const auto watchdog = watch_registration(connection);
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  error_code ec = co_await read_request_head(connection, buffer, parser);
  if (ec) {
    // A body (Content-Length > 0) fails here too: the request has none.
    logger_->info("agent {} sent no valid envoy handshake: {}", connection.peer,
                  watchdog->fired() ? "timed out" : ec.message());
    if (ec == http::error::unexpected_body) {
      auto response = build_handshake_reject(
          RegistrationRejection::bad_request("the handshake request has no body"));
      co_await http::async_write(tls, response, nothrow(ec));
    }
    co_return AcceptedSession{};
  }
  ParsedClaim claim = [&]() -> ParsedClaim {
    auto identity = parse_handshake_request(parser.get());
    if (!identity) return tl::unexpected(identity.error());
    AdmissionClaim parsed;
    parsed.named_by = TunnelNamedBy::envoy_cluster;
    parsed.identity = std::move(*identity);
    parsed.identity.session_id = generate_session_id();
    parsed.identity.peer_address = connection.peer;
    parsed.credentials =
        credentials_from(parser.get()[http::field::authorization], connection.cert_names);
    return parsed;
  }();
  auto grant = co_await admission.admit(connection, name(), claim);
  if (!grant) {
    auto response = build_handshake_reject(grant.error());
    co_await http::async_write(tls, response, nothrow(ec));
    co_await tls.async_shutdown(nothrow(ec));
    co_return AcceptedSession{};
  }
  auto accept = build_handshake_accept();
  co_await http::async_write(tls, accept, nothrow(ec));
  if (ec) co_return AcceptedSession{};
  watchdog->disarm();
  claim->identity.tunnel = grant->tunnel;
  std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
  // HTTP/2 at once, the edge as the client writing the preface: no RPING
  // from our side, and any the initiator sends first is dropped.
  auto io =
      std::make_unique<RpingStream>(std::make_unique<SocketByteStream<TlsStream>>(std::move(tls)),
                                    RpingStream::Mode::strip, std::move(rest));
  AcceptedSession accepted;
  accepted.tunnel = grant->tunnel;
  accepted.leases_only = grant->leases_only;
  accepted.session = std::make_unique<h2::H2Connection>(
      std::move(io), h2::tunnel_options(h2::Role::client, h2::PrefaceMode::standard, settings_),
      std::move(claim->identity), logger_);
  co_return accepted;
}

}  // namespace dialback::envoy
