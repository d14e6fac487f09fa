// AgentListener: the TLS listener agents dial. Dispatches each connection
// on its ALPN: "http/1.1" is the `h2` transport (registration handshake,
// then reversed HTTP/2), "h2" is `rhttp` (identity from the client
// certificate). Every accepted session runs as an H2Connection registered
// in the SessionRegistry for as long as it lives. AgentGate limits the rate
// of handshakes and of failed registrations per source address.
#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>

#include "config/edge_config.hpp"
#include "core/heap_trimmer.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "edge/agent_gate.hpp"
#include "edge/edge_counters.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "transport/h2/h2_connection.hpp"

namespace dialback::edge {

class AgentListener {
 public:
  AgentListener(asio::any_io_executor executor, asio::ssl::context& tls,
                const EdgeConfig& config, const TunnelTable& tunnels, SessionRegistry& registry,
                EdgeCounters& counters, Logger logger);

  // Binds the listening socket.
  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);
  // Accepts until stop(); the returned task ends when the acceptor closes.
  Task<void> accept_loop();
  // Stops accepting; new registrations get 503 from here on.
  void stop();
  // Drains every session (GOAWAY, wait for in-flight streams until `deadline`).
  Task<void> drain(std::chrono::steady_clock::time_point deadline);
  std::size_t live_connections() const { return live_; }

 private:
  Task<void> serve(tcp::socket socket);
  // An agent connection past its TLS handshake and registration.
  struct Admitted {
    std::unique_ptr<h2::H2Connection> connection;
    std::size_t tunnel = 0;
    std::string initial;  // bytes read after the registration request
  };
  // Handshake and registration; nullopt when refused or failed. A separate
  // coroutine so that its frame (parser, watchdog, credentials: ~2 KiB) is
  // gone while the session runs.
  Task<std::optional<Admitted>> register_agent(tcp::socket socket);
  Task<void> run_session(std::unique_ptr<h2::H2Connection> connection, std::size_t tunnel,
                         std::string initial);

  asio::any_io_executor executor_;
  asio::ssl::context& tls_;
  const EdgeConfig& config_;
  const TunnelTable& tunnels_;
  SessionRegistry& registry_;
  EdgeCounters& counters_;
  Logger logger_;
  AgentGate gate_;  // handshake and failure rate limits, sampled refusal log
  Listener listener_;
  AsyncEvent sessions_changed_;
  HeapTrimmer trimmer_;  // gives back what ended sessions freed
  bool stopping_ = false;
  std::size_t live_ = 0;
};

}  // namespace dialback::edge
