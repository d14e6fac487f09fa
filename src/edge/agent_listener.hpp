// AgentListener: the TLS listener agents dial. After TLS it reads the
// agent's first bytes and hands the connection to the first acceptor of
// its table that claims them (one per transport, registered by
// add_acceptor()); every accepted session is registered in the
// SessionRegistry under its tunnel's id for as long as it runs. It is the
// Admission every acceptor asks: AgentGate's rate limits, then the pure
// decision of edge/admission.hpp, with the request to a tunnel's
// auth.external endpoint (ExternalAuthClient) between its two steps.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/edge_config.hpp"
#include "core/async_event.hpp"
#include "core/heap_trimmer.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/agent_gate.hpp"
#include "edge/edge_counters.hpp"
#include "edge/external_auth_client.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback::edge {

class Allocations;

class AgentListener final : public AgentSessionHost, private Admission {
 public:
  AgentListener(asio::any_io_executor executor, asio::ssl::context& tls,
                const EdgeConfig& config, const TunnelTable& tunnels, SessionRegistry& registry,
                EdgeCounters& counters, Logger logger);

  // Appends a transport; connections go to the first one that claims them.
  void add_acceptor(std::unique_ptr<SessionAcceptor> acceptor);
  // The leases of tunnels.<name>.allocate, asked at registration; null: none.
  void set_allocations(Allocations* allocations) { allocations_ = allocations; }

  // Binds the listening socket.
  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);
  // Accepts until stop(); the returned task ends when the acceptor closes.
  Task<void> accept_loop();
  // Stops accepting; new registrations get 503 from here on.
  void stop();
  // Drains every session (GOAWAY, wait for in-flight streams until `deadline`).
  Task<void> drain(std::chrono::steady_clock::time_point deadline);
  std::size_t live_connections() const { return live_; }
  // Requests sent to auth.external endpoints (cache hits not counted).
  std::uint64_t external_auth_requests() const { return external_auth_.requests(); }

  // AgentSessionHost: for the transports with their own listener (QUIC).
  Admission& admission() override { return *this; }
  bool allow_handshake(const std::string& source, const std::string& peer) override;
  // Counted as a live connection, as one that came through serve().
  Task<void> run_session(AcceptedSession accepted) override;

 private:
  Task<void> serve(tcp::socket socket);
  // TLS and the first bytes, then the claiming acceptor's registration;
  // an empty session when refused or failed. A separate coroutine so that
  // its frame is gone while the session runs.
  Task<AcceptedSession> register_agent(tcp::socket socket);
  Task<void> run_registered(AcceptedSession accepted);

  // Admission
  void refused_request(const AgentPeer& from, std::string_view transport,
                       std::string_view reason) override;
  Task<tl::expected<AdmissionGrant, RegistrationRejection>> admit(
      const AgentPeer& from, std::string_view transport, const ParsedClaim& claim) override;

  asio::any_io_executor executor_;
  asio::ssl::context& tls_;
  const EdgeConfig& config_;
  const TunnelTable& tunnels_;
  SessionRegistry& registry_;
  Allocations* allocations_ = nullptr;  // not owned
  EdgeCounters& counters_;
  Logger logger_;
  std::vector<std::unique_ptr<SessionAcceptor>> acceptors_;
  AgentGate gate_;  // handshake and failure rate limits, sampled refusal log
  ExternalAuthClient external_auth_;
  Listener listener_;
  AsyncEvent sessions_changed_;
  TaskGroup drains_;     // drain() of each session; drain() joins them
  HeapTrimmer trimmer_;  // gives back what ended sessions freed
  bool stopping_ = false;
  std::size_t live_ = 0;
};

}  // namespace dialback::edge
