#include "transport/h2/registration_dialer.hpp"

#include "transport/h2/agent_session.hpp"
#include "transport/registration_exchange.hpp"
#include "transport/tls_dial.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::h2 {

Task<DialOutcome> RegistrationDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  DialOutcome outcome;
  auto dialed = co_await dial_tls(request.executor, *request.tls, edge, request.proxy,
                                  AlpnSet::h2_transport_client, request.pending, request.logger);
  if (!dialed) co_return outcome;
  TlsStream& tls = *dialed->tls;
  const SessionIdentity& identity = request.identity;
  const RegistrationRequest registration = registration_request_for(edge, request);
  auto message = build_registration_request(registration);
  error_code ec;
  co_await http::async_write(tls, message, nothrow(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (!ec) co_await http::async_read_header(tls, buffer, parser, nothrow(ec));
  if (!ec && !parser.is_done()) co_await http::async_read(tls, buffer, parser, nothrow(ec));
  if (ec) {
    request.logger->warn("registration with edge {} failed: {}", dialed->where,
                         dialed->watchdog->fired() ? "timed out" : ec.message());
    co_return outcome;
  }
  auto answer = parse_registration_response(parser.get());
  if (!answer) {
    outcome.rejection = answer.error();
    co_return outcome;
  }
  request.logger->debug("edge {} ({}) accepted session {}; routes: {}", dialed->where,
                        answer->edge_id, identity.session_id, answer->routes);
  log_allocation(request, dialed->where, answer->routes);
  std::string initial(static_cast<const char*>(buffer.data().data()), buffer.size());
  outcome.session = make_agent_session(dialed->into_stream(), dialed->where, PrefaceMode::standard,
                                       std::move(initial), std::move(request));
  co_return outcome;
}

}  // namespace dialback::h2
