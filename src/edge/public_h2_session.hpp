// PublicH2Session: one public HTTP/2 connection (TLS with ALPN h2, or h2c
// with prior knowledge). nghttp2 in the server role (the same H2Connection
// the agent uses, with the standard preface) turns it into streams, which
// PublicStreamForwarder forwards through tunnel streams. 431 comes from
// H2Connection for header blocks over the limits. The connection closes
// after public.idle_timeout without streams.
//
// Owner: PublicHttpServer, which co_awaits run(); all calls on its executor.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/byte_stream.hpp"
#include "core/task_group.hpp"
#include "edge/public_stream_forwarder.hpp"
#include "transport/h2/h2_connection.hpp"

namespace dialback::edge {

class PublicH2Session {
 public:
  // `initial`: bytes already read from `io` (the client preface, for h2c).
  PublicH2Session(std::unique_ptr<ByteStream> io, std::string initial, RequestForwarder& forwarder,
                  PublicPeer peer, std::string scheme, std::string alt_svc, Logger logger);

  // Serves the connection until it ends and every stream's forwarder has
  // returned.
  Task<void> run();
  // GOAWAY now: streams in flight finish until `deadline`, then the
  // connection closes. Only while run() runs.
  void shut_down(std::chrono::steady_clock::time_point deadline);

 private:
  Task<void> close_when_idle();

  Logger logger_;
  h2::H2Connection connection_;
  asio::any_io_executor executor_;
  PublicStreamForwarder streams_;
  AsyncEvent streams_changed_;  // wakes the idle watcher
  // Each stream's forwarder, the idle watcher and a drain; run() joins them.
  TaskGroup tasks_;
  bool ended_ = false;
};

}  // namespace dialback::edge
