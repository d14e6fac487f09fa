// StreamBridge: one exchange relayed between two HTTP/2-shaped streams —
// the `client` side the request came from (an IncomingStream) and the
// `server` side it goes to (a TunnelStream). The edge's public HTTP/2 front
// end bridges a public stream to a tunnel stream; the agent's h2c upstream
// bridges a tunnel stream to a stream on the local service's connection.
//
// The request body (and trailers) flows from the start, beside the wait for
// the response, under flow control both ways. The client resetting its
// stream (or its connection ending) resets the server stream at once. A
// server failure before the response head is the caller's to answer
// (502/504 ...); after it, relay_response() resets the client stream.
//
// All calls on the streams' executor. Both streams must outlive the bridge,
// and finish() must complete before the bridge is destroyed.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback {

class StreamBridge {
 public:
  // `body_limit`: request body bytes allowed (0: no limit); over it the
  // server stream is reset and body_too_large() turns true.
  // `logger` names an exception escaping the request body's relay.
  StreamBridge(IncomingStream& client, TunnelStream& server, asio::any_io_executor executor,
               std::uint64_t body_limit = 0, Logger logger = nullptr);
  StreamBridge(const StreamBridge&) = delete;
  StreamBridge& operator=(const StreamBridge&) = delete;

  // The server's final response head; 1xx heads before it go on to the
  // client as they come. The server stream is reset on failure.
  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline);
  // Sends `head` to the client, then the server's body and trailers.
  // Returns the body bytes relayed; on failure both streams are reset.
  Task<Result<std::uint64_t>> relay_response(const ResponseHead& head);
  // Waits until the request body's relay has ended.
  Task<void> finish();

  bool body_too_large() const { return body_too_large_; }

 private:
  static Task<void> relay_request(StreamBridge* self);

  IncomingStream& client_;
  TunnelStream& server_;
  std::uint64_t body_limit_;
  bool body_too_large_ = false;
  TaskGroup upload_;  // the request body's relay
};

}  // namespace dialback
