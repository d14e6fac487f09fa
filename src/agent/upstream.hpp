// Upstream: what serves the tunnel streams of one agent route (a local
// service). HttpUpstream speaks HTTP/1.1 to it; UpstreamRouter picks one
// Upstream per request by path; make_upstream() builds the one a route asks for.
#pragma once

#include <chrono>
#include <memory>

#include "core/asio.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

struct UpstreamTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds response{60000};
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  // Handles one exchange end to end. Runs on the agent's executor; `stream`
  // is owned here. The Upstream must outlive every serve() call.
  virtual Task<void> serve(std::unique_ptr<IncomingStream> stream) = 0;
  // Cuts off every exchange in progress: serve() calls still waiting on the
  // local service fail and return. Used by Agent::shutdown() once the
  // sessions are gone.
  virtual void abort() = 0;
};

}  // namespace dialback::agent
