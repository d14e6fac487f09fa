// Session: what the owner of one agent session holds, whatever the
// transport and whichever side (the edge's TunnelSession, the agent's dialed
// session). The owner co_awaits run() and keeps the object alive until it
// returns; every other call happens on executor() while run() is running.
#pragma once

#include <chrono>
#include <cstdint>
#include <system_error>

#include "core/asio.hpp"
#include "core/error.hpp"
#include "tunnel/session_identity.hpp"

namespace dialback {

struct SessionStats {
  std::size_t inflight = 0;  // open streams
  std::uint64_t streams_total = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::chrono::microseconds rtt{0};  // last liveness round trip, 0 when not measured
};

class Session {
 public:
  virtual ~Session() = default;

  // Runs the session until it ends; returns why (Error::session_closed for
  // an orderly end).
  virtual Task<std::error_code> run() = 0;
  // Ends the session now; open streams fail with `reason`.
  virtual void close(Error reason) = 0;
  // Tells the peer no new streams will come (HTTP/2 GOAWAY), lets in-flight
  // streams finish until `deadline`, then closes. Returns the number of
  // streams cut off at the deadline. May be spawned detached while run() is
  // running; run() does not return while it is pending.
  virtual Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) = 0;

  virtual const SessionIdentity& identity() const = 0;
  virtual SessionStats stats() const = 0;
  virtual asio::any_io_executor executor() const = 0;
};

}  // namespace dialback
