// TunnelSession: one agent connection as the edge sees it, whatever the
// transport (h2, rhttp; later h3, poll). Routing, auth and the public
// listeners only ever see this interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "core/result.hpp"
#include "tunnel/message.hpp"
#include "tunnel/session_identity.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback {

struct SessionStats {
  std::size_t inflight = 0;        // open streams
  std::uint64_t streams_total = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::chrono::microseconds rtt{0};  // last PING round trip, 0 when not measured
};

class TunnelSession {
 public:
  virtual ~TunnelSession() = default;

  virtual const SessionIdentity& identity() const = 0;
  virtual SessionStats stats() const = 0;
  // False once the session drains or closes: no new streams go to it.
  virtual bool accepting() const = 0;

  // Opens a stream carrying `head`; end_stream when the request has no body.
  virtual Result<std::unique_ptr<TunnelStream>> open_stream(const RequestHead& head,
                                                            bool end_stream) = 0;

  // No new streams (GOAWAY); in-flight streams continue.
  virtual void go_away() = 0;
  // go_away(), then waits for in-flight streams until `deadline` and closes.
  // Returns the number of streams cut off at the deadline.
  virtual Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace dialback
