// The registration of the `h3` transport (docs/protocol.md §10): the
// registration stream carries the HTTP/1.1 exchange of the `h2` handshake
// (§2) byte for byte — the agent's request with its identity headers and
// credentials, the edge's 101 or error answer — so that both transports
// share its parser, its validation and its statuses.
#pragma once

#include "transport/quic/quic_registration.hpp"

namespace dialback::quic {

// The most a registration message may take (request or answer).
inline constexpr std::size_t kMaxRegistrationBytes = 64u << 10;

class H3Registration final : public QuicRegistration {
 public:
  std::string_view alpn() const override;
  std::string_view name() const override { return "h3"; }
  bool complete(std::string_view bytes) const override;
  ParsedClaim parse(std::string_view bytes, const AgentPeer& peer) const override;
  std::string accepted(const AdmissionGrant& grant) const override;
  QuicRefusal refused(const RegistrationRejection& rejection) const override;
};

class H3RegistrationClient final : public QuicRegistrationClient {
 public:
  std::string_view alpn() const override;
  std::string_view name() const override { return "h3"; }
  std::string request(const EdgeTargetConfig& edge, const DialRequest& dial) const override;
  bool complete(std::string_view /*bytes*/) const override { return false; }  // read to the end
  tl::expected<RegistrationAccepted, RegistrationRejection> answer(
      std::string_view bytes) const override;
  RegistrationRejection closed(std::uint64_t code, std::string_view reason) const override;
};

}  // namespace dialback::quic
