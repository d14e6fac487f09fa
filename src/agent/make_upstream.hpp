// The one place that decides which Upstream serves an agent route.
#pragma once

#include <memory>

#include "agent/upstream.hpp"
#include "config/agent_config.hpp"
#include "core/logging.hpp"

namespace dialback::agent {

// The Upstream for `route`: H2cUpstream when the route says h2c; otherwise
// HttpUpstream (HTTP/1.1 keep-alive pool), with gRPC calls sent over h2c
// (GrpcAwareUpstream). The h2c connection opens only when first needed.
std::unique_ptr<Upstream> make_upstream(const AgentRoute& route, asio::any_io_executor executor,
                                        UpstreamTimeouts timeouts, Logger logger);

}  // namespace dialback::agent
