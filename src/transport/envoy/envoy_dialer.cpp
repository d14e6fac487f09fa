#include "transport/envoy/envoy_dialer.hpp"

#include "transport/envoy/envoy_handshake.hpp"
#include "transport/envoy/rping_stream.hpp"
#include "transport/h2/agent_session.hpp"
#include "transport/tls_dial.hpp"

namespace dialback::envoy {

Task<DialOutcome> EnvoyDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  DialOutcome outcome;
  auto dialed = co_await dial_tls(request.executor, *request.tls, edge, request.proxy,
                                  AlpnSet::h2_transport_client, request.pending, request.logger);
  if (!dialed) co_return outcome;
  TlsStream& tls = *dialed->tls;
  auto message = build_handshake_request(edge.tls_name(), request.identity, request.authorization);
  error_code ec;
  co_await http::async_write(tls, message, nothrow(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (!ec) co_await http::async_read(tls, buffer, parser, nothrow(ec));
  if (ec) {
    request.logger->warn("envoy handshake with edge {} failed: {}", dialed->where,
                         dialed->watchdog->fired() ? "timed out" : ec.message());
    co_return outcome;
  }
  if (auto refused = parse_handshake_response(parser.get())) {
    outcome.rejection = std::move(*refused);
    co_return outcome;
  }
  std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
  auto io = std::make_unique<RpingStream>(dialed->into_stream(), RpingStream::Mode::echo,
                                          std::move(rest));
  outcome.session = h2::make_agent_session(std::move(io), dialed->where, h2::PrefaceMode::standard,
                                           {}, std::move(request));
  co_return outcome;
}

}  // namespace dialback::envoy
