// The agent side of the `poll` transport (docs/protocol.md §12): registers
// with `POST .../poll/register` and returns a PollAgentSession, which runs
// the reversed HTTP/2 session over a PollPipe and moves its bytes with
// `next` and `send` requests.
#pragma once

#include "config/agent_config.hpp"
#include "transport/session_dialer.hpp"

namespace dialback::poll {

class PollDialer final : public SessionDialer {
 public:
  explicit PollDialer(PollSettings settings) : settings_(settings) {}

  std::string_view name() const override { return "poll"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;

 private:
  PollSettings settings_;
};

}  // namespace dialback::poll
