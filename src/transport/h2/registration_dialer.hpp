// The agent side of the `h2` transport (docs/protocol.md §2, §3): TLS with
// ALPN http/1.1, the registration request upgrading to `ptth`, then the
// agent is the HTTP/2 server on the same connection.
#pragma once

#include "transport/session_dialer.hpp"

namespace dialback::h2 {

class RegistrationDialer final : public SessionDialer {
 public:
  std::string_view name() const override { return "h2"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;
};

}  // namespace dialback::h2
