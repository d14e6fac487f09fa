// Reverst's registration as a QUIC registration protocol (ALPN
// `quic-h3-tunnel`, docs/protocol.md §11): the agent writes one msgpack
// RegisterListenerRequest on the registration stream; the edge answers a
// RegisterListenerResponse when it accepts, and otherwise closes the
// connection with Reverst's application error codes. After that the session
// is the `h3` transport's: HTTP/3 on streams the edge opens.
//
// ReverstRegistration is the edge's side (Reverst agents, Flipt's Go
// client, register with a dialback edge unchanged); ReverstRegistrationClient
// the dialback agent's (`transport: reverst`, registering with a Reverst
// server or a dialback edge).
#pragma once

#include "transport/quic/quic_registration.hpp"

namespace dialback::reverst {

class ReverstRegistration final : public quic::QuicRegistration {
 public:
  std::string_view alpn() const override;
  std::string_view name() const override { return "reverst"; }
  bool complete(std::string_view bytes) const override;
  ParsedClaim parse(std::string_view bytes, const AgentPeer& peer) const override;
  std::string accepted(const AdmissionGrant& grant) const override;
  quic::QuicRefusal refused(const RegistrationRejection& rejection) const override;
};

class ReverstRegistrationClient final : public quic::QuicRegistrationClient {
 public:
  std::string_view alpn() const override;
  std::string_view name() const override { return "reverst"; }
  std::string request(const EdgeTargetConfig& edge, const DialRequest& dial) const override;
  bool complete(std::string_view bytes) const override;
  tl::expected<RegistrationAccepted, RegistrationRejection> answer(
      std::string_view bytes) const override;
  RegistrationRejection closed(std::uint64_t code, std::string_view reason) const override;
};

}  // namespace dialback::reverst
