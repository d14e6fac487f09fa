// PublicH2Session: one public HTTP/2 connection (TLS with ALPN h2, or h2c
// with prior knowledge). nghttp2 in the server role (the same H2Connection
// the agent uses, with the standard preface) turns it into streams; each
// stream is forwarded through a tunnel stream: request head, body and
// trailers up, response head, body and trailers down, both under flow
// control. Extended CONNECT (RFC 8441 WebSocket) is forwarded as it came:
// the tunnel carries the same extended CONNECT.
//
// Malformed requests never reach a tunnel. nghttp2 resets streams whose
// header fields break RFC 9113 §8.2 (upper-case names, connection-specific
// fields, CR/LF/NUL in values, bad pseudo-headers) with PROTOCOL_ERROR; this
// class answers 400 when :authority and Host disagree or no authority is
// given, 431 comes from H2Connection for header blocks over the limits, 413
// for bodies over public.max_body_bytes.
//
// Owner: PublicHttpServer, which co_awaits run(); all calls on its executor.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/byte_stream.hpp"
#include "core/task_group.hpp"
#include "edge/request_forwarder.hpp"
#include "transport/h2/h2_connection.hpp"

namespace dialback::edge {

class PublicH2Session {
 public:
  // `initial`: bytes already read from `io` (the client preface, for h2c).
  PublicH2Session(std::unique_ptr<ByteStream> io, std::string initial, RequestForwarder& forwarder,
                  PublicPeer peer, std::string scheme, Logger logger);

  // Serves the connection until it ends and every stream's forwarder has
  // returned.
  Task<void> run();
  // GOAWAY now: streams in flight finish until `deadline`, then the
  // connection closes. Only while run() runs.
  void shut_down(std::chrono::steady_clock::time_point deadline);

 private:
  Task<void> forward(std::unique_ptr<IncomingStream> public_stream);
  Task<void> respond_error(IncomingStream& public_stream, const AccessEntry& entry,
                           http::status status, std::string message, std::string_view outcome,
                           std::optional<int> retry_after = std::nullopt);
  Task<void> close_when_idle();

  RequestForwarder& forwarder_;
  PublicPeer peer_;
  std::string scheme_;
  Logger logger_;
  h2::H2Connection connection_;
  asio::any_io_executor executor_;
  AsyncEvent streams_changed_;  // wakes the idle watcher
  // Each stream's forwarder, the idle watcher and a drain; run() joins them.
  TaskGroup tasks_;
  bool ended_ = false;
};

}  // namespace dialback::edge
