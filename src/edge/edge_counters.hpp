// Counters of one edge, defined in one list (name, help).
#pragma once

#include <cstdint>

namespace dialback::edge {

#define DIALBACK_EDGE_COUNTERS(X)                                                              \
  X(sessions_accepted, "agent sessions registered")                                            \
  X(registrations_rejected, "agent registrations refused (4xx/5xx)")                           \
  X(registrations_rate_limited, "agent registrations answered 429 unchecked (failure budget)") \
  X(agent_handshakes_refused, "agent connections closed before TLS (handshake rate)")          \
  X(agent_handshakes_failed, "agent TLS handshakes that failed or timed out")                  \
  X(sessions_closed, "agent sessions ended")                                                   \
  X(sessions_protocol_errors, "agent sessions ended because the agent broke the protocol")     \
  X(agent_requests_refused,                                                                    \
    "agent transport requests refused after registration (poll: unknown session, malformed)")  \
  X(requests, "public requests received")                                                      \
  X(requests_no_route, "public requests with no tunnel for their host")                        \
  X(requests_no_session, "public requests for a tunnel without sessions")                      \
  X(requests_failed, "public requests that failed inside the tunnel")                          \
  X(requests_rate_limited, "public requests answered 429 (public.limits)")                     \
  X(requests_rejected, "public requests refused before routing (malformed, limits, 408)")      \
  X(tls_handshakes_failed, "public TLS handshakes that failed or timed out")                   \
  X(tcp_connections, "public connections accepted on tunnels' tcp ports")

struct EdgeCounters {
#define DIALBACK_COUNTER_FIELD(name, help) std::uint64_t name = 0;
  DIALBACK_EDGE_COUNTERS(DIALBACK_COUNTER_FIELD)
#undef DIALBACK_COUNTER_FIELD
};

}  // namespace dialback::edge
