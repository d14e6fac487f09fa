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
// A port may be pinned to one agent (its node): the ports leased on demand
// (edge/allocations.hpp) reach only the agent they were leased to. Those
// open and close while the edge runs (open_port, close_port).
//
// Shares the public HTTP server's forwarder (counters, access log, rate
// limits) and its connections_per_ip slots. One per edge, on its executor.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/connection_slots.hpp"
#include "edge/request_forwarder.hpp"

namespace dialback::edge {

class PublicTcpServer {
 public:
  PublicTcpServer(asio::any_io_executor executor, RequestForwarder& forwarder,
                  ConnectionSlots& slots, Logger logger);

  // Binds a port of tunnel number `tunnel` (TunnelTable's index) whose
  // connections close after `idle_timeout` without a byte either way, and
  // go to the sessions of `node` only when it is not empty. Accepting
  // starts with start(), or at once once the server runs.
  Result<tcp::endpoint> open_port(std::size_t tunnel, const tcp::endpoint& endpoint,
                                  std::chrono::milliseconds idle_timeout, std::string node = {});
  // Stops accepting on `endpoint` (as bound) and closes its connections;
  // returns once nothing of the port is left.
  Task<void> close_port(tcp::endpoint endpoint);
  // Gives the port bound at `endpoint` to `node` (an evicted agent's port
  // leased to the next): the connections it has are closed.
  void repin_port(const tcp::endpoint& endpoint, std::string node);
  // Starts accepting on every port opened so far.
  void start();
  // Stops accepting; connections keep relaying.
  void stop();
  // Closes every connection still relaying (their streams are reset).
  void close_all();
  // Waits until every connection and accept loop has ended.
  Task<void> wait_idle();
  std::size_t port_count() const { return ports_.size(); }

 private:
  struct Port {
    std::size_t tunnel;
    tcp::endpoint endpoint;  // as bound
    std::chrono::milliseconds idle_timeout;
    std::string node;  // empty: any session of the tunnel
    std::unique_ptr<Listener> listener;
    bool accepting = false;  // its accept loop runs
  };
  struct Connection {
    const Port* port;
    tcp::socket* socket;
  };

  void start_accepting(Port& port);
  Task<void> serve(const Port& port, tcp::socket socket);
  // Opens the stream, waits for the agent's answer, relays; one access line.
  Task<void> relay(const Port& port, tcp::socket& socket, const tcp::endpoint& client,
                   const PublicPeer& peer, const AccessEntry& entry);
  Port* find_port(const tcp::endpoint& endpoint) const;  // null: no such port
  void close_connections(const Port& port);

  asio::any_io_executor executor_;
  RequestForwarder& forwarder_;
  ConnectionSlots& slots_;
  Logger logger_;
  std::list<std::unique_ptr<Port>> ports_;  // stable: accept loops and connections point at them
  std::list<Connection> connections_;       // relaying or about to
  AsyncEvent changed_;                      // a connection or an accept loop ended
  TaskGroup loops_;                         // the accept loops
  bool running_ = false;                    // start() was called, stop() was not
  std::size_t closing_ = 0;                 // close_port() calls under way
};

}  // namespace dialback::edge
