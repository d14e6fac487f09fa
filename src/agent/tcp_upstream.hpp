// TcpUpstream: serves raw TCP streams (plain CONNECT, docs/protocol.md §13)
// by relaying each to a fresh connection to the agent's tcp target: once
// connected it answers 200, writes the PROXY v2 header when the target asks
// for one, and relays bytes both ways with backpressure and half-close
// (tunnel/stream_relay.hpp) until both directions ended. A target that
// cannot be reached is a 502 with a text body (the edge closes the public
// connection and logs it). Connections are never pooled.
#pragma once

#include <chrono>
#include <list>
#include <memory>

#include "agent/upstream.hpp"
#include "config/agent_config.hpp"
#include "core/logging.hpp"

namespace dialback::agent {

class TcpUpstream final : public Upstream {
 public:
  TcpUpstream(asio::any_io_executor executor, AgentTcpTarget target,
              std::chrono::milliseconds connect_timeout, Logger logger);

  Task<void> serve(std::unique_ptr<IncomingStream> stream) override;
  // Closes every connection relaying: their serve() calls end.
  void abort() override;

 private:
  asio::any_io_executor executor_;
  AgentTcpTarget target_;
  std::chrono::milliseconds connect_timeout_;
  Logger logger_;
  std::string label_;  // "host:port", for the log
  // Sockets a serve() call is relaying. Shared with the serve() frames,
  // which may be destroyed after this object.
  std::shared_ptr<std::list<tcp::socket*>> active_ = std::make_shared<std::list<tcp::socket*>>();
};

}  // namespace dialback::agent
