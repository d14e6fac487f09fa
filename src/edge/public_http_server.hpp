// PublicHttpServer: the edge's public HTTP/1.1 listener. For each request:
// route by Host to a tunnel, pick a session, open a tunnel stream, and relay
// the request body up and the response back with backpressure (a Bridge in
// ARCHITECTURE.md terms). Keep-alive between requests.
#pragma once

#include <list>

#include "config/edge_config.hpp"
#include "core/async_event.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "edge/edge_counters.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "http1/trace_context.hpp"

namespace dialback::edge {

class PublicHttpServer {
 public:
  PublicHttpServer(asio::any_io_executor executor, const EdgeConfig& config,
                   const TunnelTable& tunnels, SessionRegistry& registry, EdgeCounters& counters,
                   Logger access_log, Logger logger);

  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);
  Task<void> accept_loop();
  // Stops accepting and closes idle keep-alive connections; busy ones close
  // after their current response.
  void stop();
  // Waits until every connection has closed.
  Task<void> wait_idle();

 private:
  struct Connection {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;
  };

  Task<void> serve(tcp::socket socket);
  // Forwards one request; returns false when the connection must close.
  Task<bool> forward(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                     http::request_parser<http::buffer_body>& parser,
                     const std::string& client_ip);
  std::string next_request_id();

  asio::any_io_executor executor_;
  const EdgeConfig& config_;
  const TunnelTable& tunnels_;
  SessionRegistry& registry_;
  EdgeCounters& counters_;
  Logger access_log_;
  Logger logger_;
  Listener listener_;
  std::list<Connection> connections_;
  AsyncEvent connections_changed_;
  bool stopping_ = false;
  std::string request_id_prefix_;
  http1::TraceparentGenerator traceparents_{std::random_device{}()};
  std::uint64_t request_counter_ = 0;
};

}  // namespace dialback::edge
