// Listener: a bound TCP acceptor and its accept loop, shared by every
// server of the project. Each accepted connection runs as its own detached
// coroutine; the owner keeps track of them.
#pragma once

#include <functional>
#include <string>

#include "core/asio.hpp"
#include "core/logging.hpp"
#include "core/result.hpp"

namespace dialback {

class Listener {
 public:
  using Serve = std::function<Task<void>(tcp::socket)>;

  Listener(asio::any_io_executor executor, std::string name, Logger logger)
      : executor_(executor), acceptor_(executor), name_(std::move(name)), logger_(std::move(logger)) {}

  // Binds and listens (SO_REUSEADDR); returns the bound endpoint.
  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec);
    return acceptor_.local_endpoint();
  }

  // Accepts until stop(), starting serve(socket) for each connection.
  Task<void> accept_loop(Serve serve) {
    while (!stopped_) {
      error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
      if (ec) {
        if (stopped_ || ec == asio::error::operation_aborted) break;
        logger_->warn("{}: accept failed: {}", name_, ec.message());
        continue;
      }
      asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
    }
  }

  // Closes the acceptor; the accept loop ends once its pending accept completes.
  void stop() {
    stopped_ = true;
    error_code ec;
    acceptor_.close(ec);
  }

 private:
  asio::any_io_executor executor_;
  tcp::acceptor acceptor_;
  std::string name_;
  Logger logger_;
  bool stopped_ = false;
};

}  // namespace dialback
