// H2cUpstream: serves tunnel streams on a local service that speaks HTTP/2
// in cleartext with prior knowledge (gRPC servers, h2c-only backends). One
// connection (nghttp2 in the client role, the project's H2Connection)
// carries every request as its own stream; it opens on first use and again
// once it ended or began draining. Each exchange is a StreamBridge: bodies
// and trailers flow both ways under flow control, and a reset on either side
// reaches the other.
//
// Failures before the response head: 502 (connect, reset) or 504 (no head
// within the response timeout); for gRPC requests (content-type
// application/grpc*) a trailers-only gRPC answer instead, grpc-status 14
// (UNAVAILABLE) or 4 (DEADLINE_EXCEEDED), which gRPC clients understand.
#pragma once

#include <memory>
#include <string>

#include "agent/upstream.hpp"
#include "config/upstream_url.hpp"
#include "core/async_event.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "transport/h2/h2_connection.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

class H2cUpstream final : public Upstream {
 public:
  // `host_rewrite`: the :authority sent to the service; empty keeps the public one.
  H2cUpstream(asio::any_io_executor executor, UpstreamUrl target, UpstreamTimeouts timeouts,
              Logger logger, std::string host_rewrite = {});
  ~H2cUpstream();
  H2cUpstream(const H2cUpstream&) = delete;
  H2cUpstream& operator=(const H2cUpstream&) = delete;

  Task<void> serve(std::unique_ptr<IncomingStream> stream) override;
  // Closes the connection: exchanges on it fail and their serve() returns.
  void abort() override;

 private:
  // The connection and whether its run() has returned; shared with the
  // coroutine running it, which may outlive this object by a few handlers.
  struct Link {
    std::unique_ptr<h2::H2Connection> connection;
    bool ended = false;
  };

  // A connection that accepts new streams: the current one, or a new one.
  Task<Result<h2::H2Connection*>> connection();
  Task<Result<std::shared_ptr<Link>>> connect();

  asio::any_io_executor executor_;
  UpstreamUrl target_;
  UpstreamTimeouts timeouts_;
  Logger logger_;
  std::string host_rewrite_;
  std::shared_ptr<Link> link_;
  bool connecting_ = false;
  AsyncEvent connect_done_;
  // Each connection's run() and drains. Not joined: a completion holds the
  // Link it needs, so it may end after this object.
  TaskGroup tasks_;
};

}  // namespace dialback::agent
