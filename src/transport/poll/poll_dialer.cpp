#include "transport/poll/poll_dialer.hpp"

#include <nlohmann/json.hpp>

#include "transport/h2/agent_session.hpp"
#include "transport/poll/poll_agent_session.hpp"
#include "transport/poll/poll_wire.hpp"
#include "transport/registration_exchange.hpp"
#include "transport/tls_dial.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::poll {
namespace {

// The token of the edge's `200` answer, nullopt when the body is not what
// §12 says.
std::optional<std::string> session_token(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("session") || !json["session"].is_string()) {
    return std::nullopt;
  }
  std::string token = json["session"].get<std::string>();
  if (token.empty() || token.size() > 256) return std::nullopt;
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return std::nullopt;
  }
  return token;
}

}  // namespace

Task<DialOutcome> PollDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  DialOutcome outcome;
  auto dialed = co_await dial_tls(request.executor, *request.tls, edge, request.proxy,
                                  AlpnSet::h2_transport_client, request.pending, request.logger);
  if (!dialed) co_return outcome;
  TlsStream& tls = *dialed->tls;
  http::request<http::string_body> message{http::verb::post, kRegisterPath, 11};
  set_registration_fields(message, registration_request_for(edge, request));
  message.keep_alive(false);
  message.prepare_payload();
  error_code ec;
  co_await http::async_write(tls, message, nothrow(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (!ec) co_await http::async_read(tls, buffer, parser, nothrow(ec));
  if (ec) {
    request.logger->warn("poll registration with edge {} failed: {}", dialed->where,
                         dialed->watchdog->fired() ? "timed out" : ec.message());
    co_return outcome;
  }
  const auto& response = parser.get();
  if (response.result() != http::status::ok) {
    auto answer = parse_registration_response(response);
    if (!answer) outcome.rejection = answer.error();
    co_return outcome;
  }
  log_allocation(request, dialed->where, response["Dialback-Routes"]);
  auto token = session_token(response.body());
  if (!token) {
    request.logger->warn("edge {} answered the poll registration without a session token",
                         dialed->where);
    co_return outcome;
  }
  PollRoute route{request.executor,
                  request.tls,
                  edge,
                  request.proxy ? std::optional<ProxyUrl>(*request.proxy) : std::nullopt,
                  std::move(*token),
                  request.identity.tunnel,
                  request.logger,
                  settings_};
  const auto executor = request.executor;
  auto pipe = std::make_shared<PollPipe>(executor, PollPipe::Limits{});
  auto inner = h2::make_agent_session(std::make_unique<PollPipeStream>(pipe, executor),
                                      dialed->where + " (poll)", h2::PrefaceMode::standard, "",
                                      std::move(request));
  outcome.session =
      std::make_unique<PollAgentSession>(std::move(inner), std::move(pipe), std::move(route));
  co_return outcome;
}

}  // namespace dialback::poll
