// TestUpstream: the local HTTP/1.1 service an agent forwards to in the
// integration tests, written with Beast. Runs on the test's io_context.
//
// Endpoints (every response carries `X-Upstream: <name>`):
//   /hello            200 "hello"
//   /echo             200, the request body
//   /bytes?n=N        200, pattern_bytes(N)
//   /slow?ms=N        200 "slow" after N ms
//   /sha256           200, sha256 hex of the request body
//   /reflect          200 "<METHOD> <target> <sha256 of the body> <body bytes>", and the
//                     same first two words in X-Reflect (so HEAD answers can be matched)
//   /headers          200, the request headers as "name: value\n" lines (names lower case)
//   /status?code=N    status N with an empty body (204, 304 ...)
//   /ws               WebSocket (Beast) echo: each message comes back with its
//                     text/binary kind; "close-now" closes the TCP connection
//                     abruptly. The 101 carries X-Seen-Forwarded-For and X-Seen-Host
//                     (the request's X-Forwarded-For and Host) and selects
//                     subprotocol "chat" when offered.
//   /ws-raw           any Upgrade request: a hand-written 101, then "greeting:" in
//                     the same write, then every byte echoed until EOF, then ":bye"
//                     and a FIN (byte relay and half-close, no WebSocket framing)
//   /ws-refuse        403 "websocket refused\n" (declines any upgrade)
//   anything else     404 "no such test endpoint"
// HEAD on any of them answers the GET head (with its Content-Length) and no body.
// With a `mount` ("/api") the endpoints are served below it ("/api/hello"), as
// by a service deployed at a path prefix; paths outside it get the 404.
#pragma once

#include <cstddef>
#include <list>
#include <string>

#include "core/asio.hpp"
#include "core/async_event.hpp"

namespace dialback::test {

// N deterministic, non-periodic-looking bytes.
std::string pattern_bytes(std::size_t n);
// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

class TestUpstream {
 public:
  TestUpstream(asio::any_io_executor executor, std::string name, std::string mount = {});
  ~TestUpstream();
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  // Binds 127.0.0.1:0 and starts accepting.
  tcp::endpoint start();
  // Closes the acceptor and every connection, cancels pending /slow timers.
  void stop();
  // True once every coroutine of this server has ended (after stop()).
  bool idle() const { return running_ == 0; }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(endpoint_.port()); }
  tcp::endpoint endpoint() const { return endpoint_; }
  const std::string& name() const { return name_; }
  std::size_t requests_seen() const { return requests_seen_; }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t open_connections() const { return connections_.size(); }

 private:
  Task<void> accept_loop();
  Task<void> serve(tcp::socket socket);
  Task<void> serve_websocket(beast::tcp_stream stream, http::request<http::string_body> request);
  Task<void> serve_raw_upgrade(beast::tcp_stream& stream, beast::flat_buffer& buffer);

  asio::any_io_executor executor_;
  std::string name_;
  std::string mount_;  // "" or "/prefix": where the endpoints are served
  tcp::acceptor acceptor_;
  tcp::endpoint endpoint_;
  std::list<beast::tcp_stream*> connections_;
  std::list<asio::steady_timer*> timers_;
  bool stopping_ = false;
  int running_ = 0;
  std::size_t requests_seen_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace dialback::test
