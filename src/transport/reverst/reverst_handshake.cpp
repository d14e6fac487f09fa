#include "transport/reverst/reverst_handshake.hpp"

#include "auth/authorize.hpp"
#include "transport/reverst/reverst_registration.hpp"

namespace dialback::reverst {

std::string_view ReverstRegistration::alpn() const { return kAlpn; }

bool ReverstRegistration::complete(std::string_view bytes) const {
  return decode_request(bytes).status != Decoded<RegisterListenerRequest>::Status::need_more;
}

ParsedClaim ReverstRegistration::parse(std::string_view bytes, const AgentPeer& peer) const {
  auto decoded = decode_request(bytes);
  if (decoded.status != Decoded<RegisterListenerRequest>::Status::complete) {
    return tl::unexpected(RegistrationRejection::bad_request(
        "the registration is not a msgpack RegisterListenerRequest: " + decoded.error));
  }
  const RegisterListenerRequest& request = decoded.message;
  if (request.tunnel_group.empty()) {
    return tl::unexpected(RegistrationRejection::bad_request("no TunnelGroup"));
  }
  AdmissionClaim claim;
  claim.named_by = TunnelNamedBy::reverst_group;
  claim.identity.tunnel = request.tunnel_group;
  // Reverst states no identity: each connection is a node of its own, in
  // the cluster its group names, of the tunnel's tenant.
  claim.identity.session_id = generate_session_id();
  claim.identity.node = "reverst-" + claim.identity.session_id.substr(0, 12);
  claim.identity.cluster = request.tunnel_group;
  claim.identity.peer_address = peer.peer;
  claim.credentials =
      credentials_from(authorization(request.metadata).value_or(""), peer.cert_names);
  return claim;
}

std::string ReverstRegistration::accepted(const AdmissionGrant& /*grant*/) const {
  RegisterListenerResponse response;
  response.version = kVersion;
  response.code = ResponseCode::ok;
  return encode(response);
}

quic::QuicRefusal ReverstRegistration::refused(const RegistrationRejection& rejection) const {
  // As Reverst's server: failures close the connection, 0x2 for what the
  // client must fix, 0x1 for what it may retry.
  switch (rejection.status) {
    case 401:
    case 403: return {{}, kApplicationClientError, std::string(kReasonUnauthorized)};
    case 400: return {{}, kApplicationClientError, std::string(kReasonBadRequest)};
    case 404: return {{}, kApplicationError, std::string(kReasonNotFound)};
    default: return {{}, kApplicationError, rejection.code};
  }
}

std::string_view ReverstRegistrationClient::alpn() const { return kAlpn; }

std::string ReverstRegistrationClient::request(const EdgeTargetConfig& /*edge*/,
                                               const DialRequest& dial) const {
  RegisterListenerRequest request;
  request.version = kVersion;
  request.tunnel_group = dial.identity.tunnel;
  if (!dial.authorization.empty()) {
    request.metadata.emplace(std::string(kAuthorizationKey), dial.authorization);
  }
  return encode(request);
}

bool ReverstRegistrationClient::complete(std::string_view bytes) const {
  return decode_response(bytes).status != Decoded<RegisterListenerResponse>::Status::need_more;
}

tl::expected<RegistrationAccepted, RegistrationRejection> ReverstRegistrationClient::answer(
    std::string_view bytes) const {
  auto decoded = decode_response(bytes);
  if (decoded.status != Decoded<RegisterListenerResponse>::Status::complete) {
    RegistrationRejection rejection;
    rejection.code = "protocol_error";  // status 0: not an answer at all
    rejection.message = "the answer is not a msgpack RegisterListenerResponse";
    return tl::unexpected(rejection);
  }
  // Reverst's client ignores the (deprecated) code; a response means accepted.
  return RegistrationAccepted{"reverst", ""};
}

RegistrationRejection ReverstRegistrationClient::closed(std::uint64_t code,
                                                        std::string_view reason) const {
  if (code == kApplicationClientError) {
    if (reason == kReasonUnauthorized) {
      return RegistrationRejection::unauthorized("the Reverst server refused the credential");
    }
    if (reason == kReasonNotFound) {
      return RegistrationRejection::unknown_tunnel("the Reverst server has no such tunnel group");
    }
    return RegistrationRejection::bad_request("the Reverst server refused the registration: " +
                                              std::string(reason));
  }
  // 0x1 (Reverst's retryable error, an unknown group included) and anything else.
  return RegistrationRejection::draining(
      "the Reverst server closed the connection: " + std::string(reason), std::nullopt);
}

}  // namespace dialback::reverst
