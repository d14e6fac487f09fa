// The agent side of the `rhttp` transport (docs/protocol.md §5): TLS with
// ALPN h2 and the agent's client certificate as its credential; the agent
// is the HTTP/2 server at once and writes the connection preface itself.
#pragma once

#include "transport/session_dialer.hpp"

namespace dialback::rhttp {

class RhttpDialer final : public SessionDialer {
 public:
  std::string_view name() const override { return "rhttp"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;
};

}  // namespace dialback::rhttp
