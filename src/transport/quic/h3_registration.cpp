#include "transport/quic/h3_registration.hpp"

#include <sstream>

#include "transport/quic/quic_engine.hpp"
#include "transport/quic/quic_tls.hpp"
#include "transport/registration_exchange.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::quic {
namespace {

template <class Message>
std::string serialize(const Message& message) {
  std::ostringstream out;
  out << message;
  return std::move(out).str();
}

}  // namespace

std::string_view H3Registration::alpn() const { return kAlpnDialbackH3; }

bool H3Registration::complete(std::string_view bytes) const {
  return bytes.find("\r\n\r\n") != std::string_view::npos;  // the request has no body
}

ParsedClaim H3Registration::parse(std::string_view bytes, const AgentPeer& peer) const {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxRegistrationBytes));
  parser.eager(true);
  error_code ec;
  parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec || !parser.is_header_done()) {
    return tl::unexpected(RegistrationRejection::bad_request(
        "the registration stream does not hold an HTTP/1.1 request"));
  }
  auto request = parse_registration_request(parser.get());
  if (!request) return tl::unexpected(request.error());
  return claim_from_registration(*request, parser.get()[http::field::authorization], peer);
}

std::string H3Registration::accepted(const AdmissionGrant& grant) const {
  return serialize(build_registration_accept(grant.edge_id, grant.routes));
}

QuicRefusal H3Registration::refused(const RegistrationRejection& rejection) const {
  // The agent reads the status from the answer; the close only ends it.
  return {serialize(build_registration_reject(rejection)), kH3NoError, {}};
}

std::string_view H3RegistrationClient::alpn() const { return kAlpnDialbackH3; }

std::string H3RegistrationClient::request(const EdgeTargetConfig& edge,
                                          const DialRequest& dial) const {
  return serialize(build_registration_request(registration_request_for(edge, dial)));
}

tl::expected<RegistrationAccepted, RegistrationRejection> H3RegistrationClient::answer(
    std::string_view bytes) const {
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxRegistrationBytes));
  parser.body_limit(kMaxRegistrationBytes);
  parser.eager(true);
  error_code ec;
  parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);  // the stream's end ends a body without length
  if (ec || !parser.is_header_done()) {
    RegistrationRejection rejection;
    rejection.code = "protocol_error";  // status 0: not an answer at all
    rejection.message = "the edge's answer is not an HTTP/1.1 response";
    return tl::unexpected(rejection);
  }
  return parse_registration_response(parser.get());
}

RegistrationRejection H3RegistrationClient::closed(std::uint64_t code,
                                                   std::string_view reason) const {
  // The edge answers before it closes; a close without an answer is a
  // failure to retry, not a refusal.
  RegistrationRejection rejection = RegistrationRejection::draining(
      "the edge closed the connection (error " + std::to_string(code) + " " + std::string(reason) +
          ") without answering",
      std::nullopt);
  return rejection;
}

}  // namespace dialback::quic
