// The agent side of the `envoy` transport (docs/protocol.md §9): the
// initiator of Envoy's reverse-tunnel handshake. Dials with ALPN
// http/1.1, sends the handshake request, and after the 200 serves reversed
// HTTP/2 as the server, echoing the responder's RPINGs until its first
// HTTP/2 byte.
#pragma once

#include "transport/session_dialer.hpp"

namespace dialback::envoy {

class EnvoyDialer final : public SessionDialer {
 public:
  std::string_view name() const override { return "envoy"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;
};

}  // namespace dialback::envoy
