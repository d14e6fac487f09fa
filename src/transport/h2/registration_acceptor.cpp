#include "transport/h2/registration_acceptor.hpp"

#include "transport/h2/tunnel_options.hpp"
#include "transport/handshake_reading.hpp"
#include "transport/registration_exchange.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::h2 {
SessionAcceptor::Claim RegistrationAcceptor::claims(std::string_view /*alpn*/,
                                                    std::string_view first_bytes) const {
  const auto preface = starts_with_http2_preface(first_bytes);
  if (!preface) return Claim::need_more_bytes;
  return *preface ? Claim::no : Claim::yes;
}

Task<AcceptedSession> RegistrationAcceptor::accept(AgentConnection connection,
                                                   Admission& admission) {
  TlsStream& tls = connection.tls;
  const auto watchdog = watch_registration(connection);
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  error_code ec = co_await read_request_head(connection, buffer, parser);
  if (ec) {
    logger_->info("agent {} sent no registration: {}", connection.peer,
                  watchdog->fired() ? "timed out" : ec.message());
    co_return AcceptedSession{};
  }
  ParsedClaim claim = [&]() -> ParsedClaim {
    auto request = parse_registration_request(parser.get());
    if (!request) return tl::unexpected(request.error());
    return claim_from_registration(*request, parser.get()[http::field::authorization], connection);
  }();
  auto grant = co_await admission.admit(connection, name(), claim);
  if (!grant) {
    auto response = build_registration_reject(grant.error());
    co_await http::async_write(tls, response, nothrow(ec));
    co_await tls.async_shutdown(nothrow(ec));
    co_return AcceptedSession{};
  }
  auto accept = build_registration_accept(grant->edge_id, grant->routes);
  co_await http::async_write(tls, accept, nothrow(ec));
  if (ec) co_return AcceptedSession{};
  watchdog->disarm();
  std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
  AcceptedSession accepted;
  accepted.tunnel = grant->tunnel;
  accepted.leases_only = grant->leases_only;
  accepted.session =
      std::make_unique<H2Connection>(std::make_unique<SocketByteStream<TlsStream>>(std::move(tls)),
                                     tunnel_options(Role::client, PrefaceMode::standard, settings_),
                                     std::move(claim->identity), logger_, std::move(rest));
  co_return accepted;
}

}  // namespace dialback::h2
