// PollAgentSession: the agent's session over the `poll` transport. The
// reversed HTTP/2 session runs over a PollPipe; `next` long-polls bring the
// edge's bytes and `send` requests carry the agent's (PollSettings: how many),
// each on a keep-alive HTTPS/1.1 connection of its own that is redialed
// (through the proxy, if any) whenever it closes: the session outlives its
// connections. It ends when the HTTP/2 session ends, when the edge no
// longer knows the token, or when no request gets through for kUnreachable.
#pragma once

#include <memory>
#include <string>

#include "config/agent_config.hpp"
#include "core/task_group.hpp"
#include "transport/pending_dials.hpp"
#include "transport/poll/poll_pipe.hpp"
#include "tunnel/session.hpp"

namespace dialback::poll {

// What the pumps need to reach the edge again.
struct PollRoute {
  asio::any_io_executor executor;
  asio::ssl::context* tls = nullptr;
  EdgeTargetConfig edge;
  std::optional<ProxyUrl> proxy;
  std::string token;   // the session token
  std::string tunnel;  // sent with every request
  Logger logger;
  PollSettings requests;  // in flight at once
};

class PollAgentSession final : public Session {
 public:
  PollAgentSession(std::unique_ptr<Session> inner, std::shared_ptr<PollPipe> pipe, PollRoute route);
  ~PollAgentSession() override;

  Task<std::error_code> run() override;
  void close(Error reason) override { inner_->close(reason); }
  Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) override {
    return inner_->drain(deadline);
  }
  const SessionIdentity& identity() const override { return inner_->identity(); }
  SessionStats stats() const override { return inner_->stats(); }
  asio::any_io_executor executor() const override { return inner_->executor(); }

 private:
  struct Connection;
  Task<void> poll_loop();
  Task<void> send_loop();
  // One request and its response on `connection` (dialed first when
  // closed); nullopt when either failed (the connection is then closed).
  Task<std::optional<http::response<http::string_body>>> exchange(
      Connection& connection, http::request<http::string_body>& request,
      std::chrono::seconds timeout);
  Task<void> pause_after_failure(Connection& connection);
  // Dials the connection when it is closed; false when that failed.
  Task<bool> connect(Connection& connection);
  void edge_forgot_session();
  Task<void> send_close();

  std::unique_ptr<Session> inner_;
  std::shared_ptr<PollPipe> pipe_;
  PollRoute route_;
  PendingDials connections_;  // every pump's socket: closed when the session ends
  bool edge_ended_ = false;   // the edge answered 404: it no longer knows the session
  TaskGroup pumps_;
};

}  // namespace dialback::poll
