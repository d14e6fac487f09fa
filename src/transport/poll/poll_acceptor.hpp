// The edge side of the `poll` transport (docs/protocol.md §12): ordinary
// HTTPS/1.1 requests on the agent listener, told apart from the other
// transports by their path. A `register` request is admitted like every
// registration and yields a session: the reversed HTTP/2 session of §3
// over a PollPipe, which later `next` and `send` requests (on any
// connection, naming the session by its token) move bytes through.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "core/logging.hpp"
#include "transport/poll/poll_pipe.hpp"
#include "transport/session_acceptor.hpp"
#include "transport/session_settings.hpp"

namespace dialback::poll {

class PollAcceptor final : public SessionAcceptor {
 public:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  PollAcceptor(SessionSettings settings, Logger logger)
      : settings_(settings), logger_(std::move(logger)) {}

  std::string_view name() const override { return "poll"; }
  // Requests whose line starts "POST <prefix>" or "GET <prefix>".
  Claim claims(std::string_view alpn, std::string_view first_bytes) const override;
  // Serves the connection's requests until it closes or is idle for
  // kIdleConnection; a `register` request (first on its connection) returns
  // its session and closes the connection.
  Task<AcceptedSession> accept(AgentConnection connection, Admission& admission) override;

 private:
  struct Entry {
    std::weak_ptr<PollPipe> pipe;
    std::string tunnel;
  };

  Task<AcceptedSession> register_session(AgentConnection& connection, Admission& admission,
                                         const Request& request);
  // The live pipe named by the request, or the error answer in `refusal`.
  std::shared_ptr<PollPipe> find(const Request& request, Response& refusal);
  // A batch, written here (nullopt; keep_alive false when that failed),
  // or the answer to write: 204 after kNextWait without bytes, an error.
  Task<std::optional<Response>> next(PollPipe& pipe, const Request& request,
                                     AgentConnection& connection, bool& keep_alive);
  Task<Response> send(PollPipe& pipe, const Request& request, const std::string& peer);

  SessionSettings settings_;
  Logger logger_;
  std::unordered_map<std::string, Entry> sessions_;  // by token
};

}  // namespace dialback::poll
