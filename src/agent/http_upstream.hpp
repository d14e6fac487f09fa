// HttpUpstream: serves tunnel streams by forwarding them to the local
// HTTP/1.1 service, over a pool of keep-alive connections. Bodies stream
// both ways with backpressure. Failures become 502 (connect, protocol) or
// 504 (no response in time) with a body naming the local service; after the
// response head was sent a failure resets the stream instead. An extended
// CONNECT (WebSocket) gets a connection of its own instead (upgrade_forwarder.hpp).
#pragma once

#include <deque>
#include <list>
#include <memory>

#include "config/upstream_url.hpp"
#include "core/logging.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

struct UpstreamTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds response{60000};
};

class HttpUpstream {
 public:
  HttpUpstream(asio::any_io_executor executor, UpstreamUrl target, UpstreamTimeouts timeouts,
               Logger logger);

  // Handles one exchange end to end. Runs on the executor; `stream` is owned here.
  Task<void> serve(std::unique_ptr<IncomingStream> stream);
  // Closes every connection to the local service, idle or in use: serve()
  // calls still waiting on it fail and return. Used by Agent::shutdown().
  void abort();

 private:
  struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
  };

  Task<Result<std::unique_ptr<Connection>>> connect();
  // Extended CONNECT (WebSocket): a fresh connection, never pooled (upgrade_forwarder.hpp).
  Task<void> serve_upgrade(std::unique_ptr<IncomingStream> stream);
  void release(std::unique_ptr<Connection> connection);
  Task<void> respond_error(IncomingStream& stream, int status, std::string message);

  asio::any_io_executor executor_;
  UpstreamUrl target_;
  UpstreamTimeouts timeouts_;
  Logger logger_;
  std::deque<std::unique_ptr<Connection>> idle_;
  // Connections a serve() call is using. Shared with the serve() frames,
  // which may be destroyed after this object.
  std::shared_ptr<std::list<Connection*>> active_ = std::make_shared<std::list<Connection*>>();
};

}  // namespace dialback::agent
