// The one place that decides which Upstream serves an agent route.
#pragma once

#include <memory>

#include "agent/upstream.hpp"
#include "config/agent_config.hpp"
#include "core/logging.hpp"

namespace dialback::agent {

// The Upstream for `route`: HttpUpstream (HTTP/1.1 keep-alive pool) for now,
// also for h2c routes until an H2cUpstream exists (see make_upstream.cpp).
std::unique_ptr<Upstream> make_upstream(const AgentRoute& route, asio::any_io_executor executor,
                                        UpstreamTimeouts timeouts, Logger logger);

}  // namespace dialback::agent
