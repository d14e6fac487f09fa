// The registration protocols that can open a QUIC session, told apart by
// ALPN: dialback's own `h3` registration (h3_registration.hpp) and Reverst's
// msgpack one (transport/reverst). Each reads a claim from the bytes of the
// registration stream (stream 0) and says how to answer Admission's
// decision; the QUIC engine, HTTP/3 and the session are the same for all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "transport/session_acceptor.hpp"
#include "transport/session_dialer.hpp"
#include "tunnel/registration.hpp"

namespace dialback::quic {

// How the edge answers a refused registration: bytes on the registration
// stream (may be empty), then CONNECTION_CLOSE with an application error.
struct QuicRefusal {
  std::string answer;
  std::uint64_t close_code = 0;
  std::string close_reason;
};

// Edge side.
class QuicRegistration {
 public:
  virtual ~QuicRegistration() = default;
  virtual std::string_view alpn() const = 0;
  // The transport's name in logs and counters.
  virtual std::string_view name() const = 0;
  // Whether `bytes` hold a whole registration (the stream's end also ends it).
  virtual bool complete(std::string_view bytes) const = 0;
  virtual ParsedClaim parse(std::string_view bytes, const AgentPeer& peer) const = 0;
  virtual std::string accepted(const AdmissionGrant& grant) const = 0;
  virtual QuicRefusal refused(const RegistrationRejection& rejection) const = 0;
};

// Agent side.
class QuicRegistrationClient {
 public:
  virtual ~QuicRegistrationClient() = default;
  virtual std::string_view alpn() const = 0;
  virtual std::string_view name() const = 0;
  virtual std::string request(const EdgeTargetConfig& edge, const DialRequest& dial) const = 0;
  // Whether `bytes` hold the whole answer (the stream's end also ends it).
  virtual bool complete(std::string_view bytes) const = 0;
  virtual tl::expected<RegistrationAccepted, RegistrationRejection> answer(
      std::string_view bytes) const = 0;
  // The edge closed the connection instead of answering, with this
  // application error: what it means.
  virtual RegistrationRejection closed(std::uint64_t code, std::string_view reason) const = 0;
};

}  // namespace dialback::quic
