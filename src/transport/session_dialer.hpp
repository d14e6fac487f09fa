// SessionDialer: the agent side of one agent transport. Dials an edge,
// runs the transport's registration and yields the session, which hands
// every stream the edge opens to the agent's handler. The agent picks a
// dialer per edge from its table (agent/agent.cpp). See
// docs/architecture.md, "Transports".
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/agent_config.hpp"
#include "config/proxy_url.hpp"
#include "core/logging.hpp"
#include "transport/pending_dials.hpp"
#include "transport/session_settings.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/registration.hpp"
#include "tunnel/session.hpp"

namespace dialback {

// Everything a dial needs from the agent, for one attempt.
struct DialRequest {
  asio::any_io_executor executor;
  asio::ssl::context* tls = nullptr;  // the agent's client context (CA, certificate)
  SessionIdentity identity;           // with a fresh session id; peer_address unset
  std::string authorization;          // the Authorization value to send; empty: none
  AllocationRequest allocation;       // ports / host names to ask for (protocol §14)
  SessionSettings settings;
  Logger logger;
  PendingDials* pending = nullptr;  // closes this dial's socket on shutdown
  // The HTTP proxy for this edge (TCP transports; QUIC ignores it); null: direct.
  const ProxyUrl* proxy = nullptr;
  // Receives each stream the edge opens (called on the executor).
  std::function<void(std::unique_ptr<IncomingStream>)> on_stream;
  // Called once when the edge announces it drains (HTTP/2 GOAWAY).
  std::function<void()> on_goaway;
};

// How a dial ended: a session to run, or why there is none.
struct DialOutcome {
  std::unique_ptr<Session> session;
  // Set when the edge refused the registration (a 4xx is final, 429/5xx
  // retryable with its Retry-After).
  std::optional<RegistrationRejection> rejection;
};

class SessionDialer {
 public:
  virtual ~SessionDialer() = default;
  virtual std::string_view name() const = 0;
  virtual Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) = 0;
};

}  // namespace dialback
