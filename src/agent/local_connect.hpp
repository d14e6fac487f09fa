// The TCP connection to a local service, shared by the agent's upstreams.
#pragma once

#include <chrono>

#include "config/upstream_url.hpp"
#include "core/asio.hpp"
#include "core/result.hpp"

namespace dialback::agent {

// Resolves and connects to `target` (TCP_NODELAY set); the resolve and the
// connect together are bounded by `timeout`.
Task<Result<tcp::socket>> connect_local(asio::any_io_executor executor, const UpstreamUrl& target,
                                        std::chrono::milliseconds timeout);

}  // namespace dialback::agent
