// The edge side of the `h2` transport (docs/protocol.md §2, §3): the agent
// sends an HTTP/1.1 registration request upgrading to `ptth`; after the
// edge's 101 the edge is the HTTP/2 client on the same connection. Claims
// every connection whose first bytes are not an HTTP/2 preface, so it is
// the last entry of the listener's table and answers anything else with 400.
#pragma once

#include "core/logging.hpp"
#include "transport/session_acceptor.hpp"
#include "transport/session_settings.hpp"

namespace dialback::h2 {

class RegistrationAcceptor final : public SessionAcceptor {
 public:
  RegistrationAcceptor(SessionSettings settings, Logger logger)
      : settings_(settings), logger_(std::move(logger)) {}

  std::string_view name() const override { return "h2"; }
  Claim claims(std::string_view alpn, std::string_view first_bytes) const override;
  Task<AcceptedSession> accept(AgentConnection connection, Admission& admission) override;

 private:
  SessionSettings settings_;
  Logger logger_;
};

}  // namespace dialback::h2
