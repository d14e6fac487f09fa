// Agent: the composition root of `dialback agent`, and the embeddable
// library entry point. Keeps `connections` sessions open to every edge,
// each through the dialer of its transport (add_dialer(); the built-in ones
// are registered by the constructor), reconnecting with jittered backoff,
// and hands every incoming tunnel stream to a StreamHandler (by default the
// UpstreamRouter over the config's routes). All work runs on one executor.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "config/agent_config.hpp"
#include "core/async_event.hpp"
#include "core/heap_trimmer.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "tls/tls_context.hpp"
#include "transport/pending_dials.hpp"
#include "transport/session_dialer.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/registration.hpp"

namespace dialback::agent {

// Serves one tunnel stream to completion.
using StreamHandler = std::function<Task<void>(std::unique_ptr<IncomingStream>)>;

class Agent {
 public:
  // `handler` empty: forward by config.routes (UpstreamRouter).
  Agent(asio::any_io_executor executor, AgentConfig config, Logger logger,
        StreamHandler handler = {});
  ~Agent();

  // Builds the TLS context (from the config's files, or `pem`) and starts
  // dialing every edge. Errors carry a message for the user.
  tl::expected<void, std::string> start(const std::optional<ClientTlsPem>& pem = std::nullopt);

  // The dialer of `transport` (replacing the built-in one); before start().
  void add_dialer(AgentTransport transport, std::unique_ptr<SessionDialer> dialer);

  // Graceful stop: GOAWAY on every session, in-flight streams finish until
  // `deadline`, then the sessions close and requests still being served are
  // aborted. When it returns no coroutine of the agent is left, so the Agent
  // may be destroyed (a custom StreamHandler must return once its stream
  // fails). Destroying a started Agent without it is not allowed.
  Task<void> shutdown(std::chrono::steady_clock::time_point deadline);

  // Called once when the edge refuses the agent for good (401/403/404/400);
  // the agent has stopped dialing by then.
  void on_fatal(std::function<void(const RegistrationRejection&)> callback) {
    on_fatal_ = std::move(callback);
  }
  // Sessions registered right now.
  std::size_t connected_sessions() const { return connected_; }
  // Resolves once `count` sessions are registered (readiness gate).
  Task<void> wait_connected(std::size_t count);

 private:
  struct SlotSignal;
  struct Attempt;

  Task<void> run_slot(std::size_t edge_index);
  Task<Attempt> open_session(std::size_t edge_index, std::shared_ptr<SlotSignal> signal);
  // Chooses and logs each edge's proxy (edge_proxies_).
  void choose_proxies();
  Task<void> run_session(std::unique_ptr<Session> session, std::shared_ptr<SlotSignal> signal);
  void serve_stream(std::unique_ptr<IncomingStream> stream);
  void fatal(const RegistrationRejection& rejection);

  asio::any_io_executor executor_;
  AgentConfig config_;
  // Per edge of config_.edges: the proxy its TCP dials go through; nullopt: direct.
  std::vector<std::optional<ProxyUrl>> edge_proxies_;
  Logger logger_;
  std::unique_ptr<class UpstreamRouter> router_;  // the default handler's state
  StreamHandler handler_;
  std::optional<asio::ssl::context> tls_;
  std::mt19937_64 rng_;
  std::map<AgentTransport, std::unique_ptr<SessionDialer>> dialers_;
  std::list<Session*> live_;
  AsyncEvent changed_;
  std::function<void(const RegistrationRejection&)> on_fatal_;
  std::size_t connected_ = 0;
  // Slot loops, sessions, stream handlers and drains; shutdown() joins them.
  TaskGroup tasks_{executor_, logger_, "agent"};
  int streams_serving_ = 0;           // stream handlers running
  HeapTrimmer trimmer_;               // gives back a burst's memory once no stream is served
  PendingDials dialing_;              // sockets of dials in progress; shutdown() closes them
  bool stopping_ = false;
};

}  // namespace dialback::agent
