// PublicTcpServer: the tunnels' public TCP ports (tunnels.<name>.tcp). Each
// accepted connection becomes a raw TCP stream, a plain CONNECT
// (tunnel/raw_tcp_head.hpp), on a session of its tunnel, picked as for an
// HTTP request (RequestForwarder::open_in: rate limit, balance policy); once
// the agent answers 2xx, bytes are relayed both ways with backpressure and
// half-close (tunnel/stream_relay.hpp) until both directions ended, either
// side failed, or no byte moved for the tunnel's tcp_idle_timeout. Any other
// answer, no session, or no answer within public.request_timeout closes the
// connection at once (raw TCP has no way to say why: the access log does).
//
// Shares the public HTTP server's forwarder (counters, access log, rate
// limits) and its connections_per_ip slots. One per edge, on its executor.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <vector>

#include "core/async_event.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "edge/connection_slots.hpp"
#include "edge/request_forwarder.hpp"

namespace dialback::edge {

class PublicTcpServer {
 public:
  PublicTcpServer(asio::any_io_executor executor, RequestForwarder& forwarder,
                  ConnectionSlots& slots, Logger logger);

  // Binds a port of tunnel number `tunnel` (TunnelTable's index) whose
  // connections close after `idle_timeout` without a byte either way.
  Result<tcp::endpoint> listen(std::size_t tunnel, const tcp::endpoint& endpoint,
                               std::chrono::milliseconds idle_timeout);
  // One accept loop per bound port, for the edge's task group.
  std::vector<Task<void>> accept_loops();
  // Stops accepting; connections keep relaying.
  void stop();
  // Closes every connection still relaying (their streams are reset).
  void close_all();
  // Waits until every connection has ended.
  Task<void> wait_idle();

 private:
  struct Port {
    std::size_t tunnel;
    tcp::endpoint endpoint;  // as bound
    std::chrono::milliseconds idle_timeout;
    std::unique_ptr<Listener> listener;
  };

  Task<void> serve(const Port& port, tcp::socket socket);
  // Opens the stream, waits for the agent's answer, relays; one access line.
  Task<void> relay(const Port& port, tcp::socket& socket, const PublicPeer& peer,
                   const AccessEntry& entry);

  asio::any_io_executor executor_;
  RequestForwarder& forwarder_;
  ConnectionSlots& slots_;
  Logger logger_;
  std::vector<std::unique_ptr<Port>> ports_;  // stable: the accept loops point at them
  std::list<tcp::socket*> connections_;       // relaying or about to
  AsyncEvent connections_changed_;
};

}  // namespace dialback::edge
