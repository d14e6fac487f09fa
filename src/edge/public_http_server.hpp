// PublicHttpServer: the edge's public listeners. Plain HTTP serves HTTP/1.1
// and HTTP/2 with prior knowledge (h2c, told apart by the client preface);
// HTTPS serves HTTP/2 or HTTP/1.1 as ALPN selects, and advertises HTTP/3
// (Alt-Svc) when public.h3 listens. HTTP/2 connections go to
// PublicH2Session, HTTP/3 to PublicH3Server; HTTP/1.1 is served here:
// per request, route by Host, open a tunnel stream (RequestForwarder) and
// relay the request body up and the response back with backpressure (a
// Bridge in ARCHITECTURE.md terms), with keep-alive and pipelining between
// requests.
#pragma once

#include <list>
#include <string>
#include <unordered_map>

#include "config/edge_config.hpp"
#include "core/async_event.hpp"
#include "core/listener.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/connection_slots.hpp"
#include "edge/edge_counters.hpp"
#include "edge/public_h2_session.hpp"
#include "edge/public_h3_server.hpp"
#include "edge/request_forwarder.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"

namespace dialback::edge {

class PublicHttpServer {
 public:
  // `tls`: the HTTPS listener's context (ALPN h2, http/1.1), null without one.
  PublicHttpServer(asio::any_io_executor executor, const EdgeConfig& config,
                   const TunnelTable& tunnels, SessionRegistry& registry, EdgeCounters& counters,
                   asio::ssl::context* tls, Logger access_log, Logger logger);

  // Plain listener (HTTP/1.1 and h2c).
  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);
  // TLS listener; needs the context.
  Result<tcp::endpoint> listen_tls(const tcp::endpoint& endpoint);
  // HTTP/3 listener (public.h3) with the HTTPS certificate in `tls`; from
  // now on HTTPS responses advertise it.
  Result<quic::udp::endpoint> listen_h3(const quic::udp::endpoint& endpoint,
                                        std::unique_ptr<quic::QuicTlsCredentials> tls);
  Task<void> accept_loop();
  Task<void> tls_accept_loop();
  // Needs listen_h3().
  Task<void> h3_receive_loop() { return h3_->receive_loop(); }
  // Stops accepting and closes idle HTTP/1.1 connections; busy ones close
  // after their current response. HTTP/2 and HTTP/3 connections get GOAWAY
  // and finish their streams until edge.drain_timeout.
  void stop();
  // Waits until every connection has closed.
  Task<void> wait_idle();

  // A plain HTTP/1.1 (and h2c) port pinned to one agent (a DevTunnel
  // user's): its requests go to `route` whatever their Host. Accepting
  // starts at once; stop() stops it with the rest.
  Result<tcp::endpoint> open_pinned_port(const tcp::endpoint& endpoint, PinnedRoute route);
  // Stops accepting on a pinned port (`endpoint` as bound) and closes its
  // connections; returns once nothing of it is left.
  Task<void> close_pinned_port(tcp::endpoint endpoint);

  // For the raw TCP ports (PublicTcpServer), which share them.
  RequestForwarder& forwarder() { return forwarder_; }
  ConnectionSlots& slots() { return slots_; }

 private:
  struct PinnedPort {
    PinnedPort(asio::any_io_executor executor, PinnedRoute pinned, Logger logger)
        : route(std::move(pinned)), listener(std::move(executor), "public http (pinned)", logger) {}
    tcp::endpoint endpoint;  // as bound
    PinnedRoute route;
    Listener listener;
    bool accepting = false;  // its accept loop runs
  };
  struct Connection {
    tcp::socket* socket = nullptr;
    PublicH2Session* h2 = nullptr;  // set while the connection speaks HTTP/2
    bool busy = false;
    const PinnedPort* port = nullptr;  // the pinned port it came in on; null: a shared one
  };
  using ConnectionRef = std::list<Connection>::iterator;

  Task<void> serve_plain(tcp::socket socket, const PinnedPort* pinned = nullptr);
  Task<void> serve_tls(tcp::socket socket);
  Task<void> serve_h2(std::unique_ptr<ByteStream> io, Connection& self, PublicPeer peer,
                      std::string scheme, std::string initial);
  template <class Stream>
  Task<void> serve_http1(Stream& stream, beast::flat_buffer& buffer, Connection& self,
                         const PublicPeer& peer, const char* scheme);
  // Forwards one request; returns false when the connection must close.
  template <class Stream>
  Task<bool> forward(Stream& stream, beast::flat_buffer& buffer,
                     http::request_parser<http::buffer_body>& parser, const PublicPeer& peer,
                     const char* scheme);
  ConnectionRef track(tcp::socket& socket);
  void untrack(ConnectionRef connection);

  asio::any_io_executor executor_;
  const EdgeConfig& config_;
  asio::ssl::context* tls_;
  Logger logger_;
  RequestForwarder forwarder_;
  Listener listener_;
  Listener tls_listener_;
  std::list<PinnedPort> pinned_ports_;  // stable: connections point at them
  TaskGroup pinned_loops_;              // their accept loops
  std::list<Connection> connections_;
  ConnectionSlots slots_;               // public.limits.connections_per_ip, with public.h3
  std::unique_ptr<PublicH3Server> h3_;  // public.h3; null without it
  std::string alt_svc_;                 // what HTTPS responses advertise; empty: nothing
  AsyncEvent connections_changed_;
  bool stopping_ = false;
};

}  // namespace dialback::edge
