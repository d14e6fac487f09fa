// H2cService: a local HTTP/2 service without TLS (prior knowledge) for the
// agent's h2c upstream, built on nghttp2 in the server role (the project's
// H2Connection). Runs on the test's io_context.
//
// Every request is answered 200 with `x-served-by: h2c`, `x-seen-authority`
// (the :authority it got) and `x-seen-te`; the body is the request body;
// the trailers are `x-trailer: done` plus `x-seen-trailer: <value of the
// request trailer x-request-trailer>`. Path /early-hints sends a 103 with a
// Link field first. Path /reset-after-head answers the
// head and 1000 bytes at once, then resets the stream when the first
// request body chunk arrives (so the client decides when, having seen them).
#pragma once

#include <list>
#include <memory>

#include "core/asio.hpp"
#include "core/listener.hpp"
#include "transport/h2/h2_connection.hpp"

namespace dialback::test {

class H2cService {
 public:
  explicit H2cService(asio::any_io_executor executor);
  ~H2cService();

  tcp::endpoint start();
  // Closes the listener and every connection.
  void stop();
  bool idle() const { return running_ == 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(endpoint_.port()); }
  std::size_t requests_seen() const { return requests_seen_; }

 private:
  Task<void> serve(tcp::socket socket);
  Task<void> answer(std::unique_ptr<IncomingStream> stream);

  asio::any_io_executor executor_;
  Listener listener_;
  tcp::endpoint endpoint_;
  std::list<h2::H2Connection*> connections_;
  int running_ = 0;
  std::size_t requests_seen_ = 0;
};

}  // namespace dialback::test
