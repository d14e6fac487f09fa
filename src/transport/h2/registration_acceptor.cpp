#include "transport/h2/registration_acceptor.hpp"

#include "auth/authorization_header.hpp"
#include "core/watchdog.hpp"
#include "transport/h2/tunnel_options.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::h2 {
namespace {

constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kMaxRegistrationHead = 16 * 1024;

}  // namespace

SessionAcceptor::Claim RegistrationAcceptor::claims(std::string_view /*alpn*/,
                                                    std::string_view first_bytes) const {
  const std::size_t n = std::min(first_bytes.size(), kHttp2Preface.size());
  if (first_bytes.substr(0, n) != kHttp2Preface.substr(0, n)) return Claim::yes;
  return n == kHttp2Preface.size() ? Claim::no : Claim::need_more_bytes;
}

Task<AcceptedSession> RegistrationAcceptor::accept(AgentConnection connection,
                                                   Admission& admission) {
  TlsStream& tls = connection.tls;
  tcp::socket& socket = tls.next_layer();
  Watchdog watchdog(tls.get_executor(), connection.deadline - std::chrono::steady_clock::now(),
                    [&socket] {
                      error_code ignored;
                      socket.close(ignored);
                    });
  beast::flat_buffer buffer;
  const auto initial = asio::buffer(connection.initial);
  buffer.commit(asio::buffer_copy(buffer.prepare(initial.size()), initial));
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxRegistrationHead);
  error_code ec;
  co_await http::async_read(tls, buffer, parser, nothrow(ec));
  if (ec) {
    logger_->info("agent {} sent no registration: {}", connection.peer,
                  watchdog.fired() ? "timed out" : ec.message());
    co_return AcceptedSession{};
  }
  ParsedClaim claim = [&]() -> ParsedClaim {
    auto request = parse_registration_request(parser.get());
    if (!request) return tl::unexpected(request.error());
    AdmissionClaim parsed;
    parsed.identity.tunnel = request->tunnel;
    parsed.identity.node = request->node;
    parsed.identity.cluster = request->cluster;
    parsed.identity.tenant = request->tenant;
    parsed.identity.labels = request->labels;
    parsed.identity.session_id = request->session_id;
    parsed.identity.peer_address = connection.peer;
    parsed.credentials.cert_names = connection.cert_names;
    const auto authz = parser.get()[http::field::authorization];
    if (!authz.empty()) parsed.credentials.token = token_from_authorization(authz);
    return parsed;
  }();
  auto grant = admission.admit(connection, name(), claim);
  if (!grant) {
    auto response = build_registration_reject(grant.error());
    co_await http::async_write(tls, response, nothrow(ec));
    co_await tls.async_shutdown(nothrow(ec));
    co_return AcceptedSession{};
  }
  auto accept = build_registration_accept(grant->edge_id, grant->routes);
  co_await http::async_write(tls, accept, nothrow(ec));
  if (ec) co_return AcceptedSession{};
  watchdog.disarm();
  std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
  AcceptedSession accepted;
  accepted.tunnel = grant->tunnel;
  accepted.session =
      std::make_unique<H2Connection>(std::make_unique<SocketByteStream<TlsStream>>(std::move(tls)),
                                     tunnel_options(Role::client, PrefaceMode::standard, settings_),
                                     std::move(claim->identity), logger_, std::move(rest));
  co_return accepted;
}

}  // namespace dialback::h2
