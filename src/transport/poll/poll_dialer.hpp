// The agent side of the `poll` transport (docs/protocol.md §12): registers
// with `POST .../poll/register` and returns a PollAgentSession, which runs
// the reversed HTTP/2 session over a PollPipe and moves its bytes with
// `next` and `send` requests.
#pragma once

#include "transport/session_dialer.hpp"

namespace dialback::poll {

class PollDialer final : public SessionDialer {
 public:
  std::string_view name() const override { return "poll"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;
};

}  // namespace dialback::poll
