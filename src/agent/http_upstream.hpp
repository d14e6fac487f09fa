// HttpUpstream: serves tunnel streams by forwarding them to the local
// HTTP/1.1 service, over a pool of keep-alive connections. Bodies stream
// both ways with backpressure. Failures become 502 (connect, protocol) or
// 504 (no response in time) with a body naming the local service; after the
// response head was sent a failure resets the stream instead. An extended
// CONNECT (WebSocket) gets a connection of its own instead (upgrade_forwarder.hpp).
// With a Host rewrite the local service sees `Host: <host_rewrite>`; the
// public host stays in X-Forwarded-Host and Forwarded (set by the edge).
#pragma once

#include <deque>
#include <list>
#include <memory>
#include <string>

#include "agent/upstream.hpp"
#include "config/upstream_url.hpp"
#include "core/logging.hpp"

namespace dialback::agent {

class HttpUpstream final : public Upstream {
 public:
  // `host_rewrite` empty: the local service gets the public Host.
  HttpUpstream(asio::any_io_executor executor, UpstreamUrl target, UpstreamTimeouts timeouts,
               Logger logger, std::string host_rewrite = {});

  Task<void> serve(std::unique_ptr<IncomingStream> stream) override;
  // Closes every connection to the local service, idle or in use: serve()
  // calls still waiting on it fail and return.
  void abort() override;

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

  asio::any_io_executor executor_;
  UpstreamUrl target_;
  UpstreamTimeouts timeouts_;
  Logger logger_;
  std::string host_rewrite_;
  std::string local_address_;  // "host:port", for messages
  std::deque<std::unique_ptr<Connection>> idle_;
  // Connections a serve() call is using. Shared with the serve() frames,
  // which may be destroyed after this object.
  std::shared_ptr<std::list<Connection*>> active_ = std::make_shared<std::list<Connection*>>();
};

}  // namespace dialback::agent
