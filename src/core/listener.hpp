// Listener: a bound TCP acceptor and its accept loop, shared by every
// server of the project. Each accepted connection runs as its own
// coroutine in the listener's task group (an exception escaping it is
// logged); the owner keeps track of when they end.
//
// Under descriptor or memory pressure (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
// loop does not spin: it sheds the connections waiting in the backlog
// (accepted with a reserve descriptor and closed at once, so their clients
// get an answer instead of a hang), pauses for a growing interval (10 ms to
// 250 ms), and logs once a second with a count.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/asio.hpp"
#include "core/logging.hpp"
#include "core/result.hpp"
#include "core/task_group.hpp"

namespace dialback {

class Listener {
 public:
  using Serve = std::function<Task<void>(tcp::socket)>;

  Listener(asio::any_io_executor executor, std::string name, Logger logger);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens (SO_REUSEADDR); returns the bound endpoint.
  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);

  // Accepts until stop(), starting serve(socket) for each connection.
  Task<void> accept_loop(Serve serve);

  // Closes the acceptor; the accept loop ends once its pending accept completes.
  void stop();
  // Waits until every serve() started so far has returned (after stop(),
  // with the connections told to end): the owner may then be destroyed.
  Task<void> join() { return connections_.join(); }

 private:
  // After an accept failed for want of resources: sheds the backlog, then
  // waits before the next accept.
  Task<void> back_off(const error_code& ec);
  void open_reserve();

  asio::any_io_executor executor_;
  tcp::acceptor acceptor_;
  asio::steady_timer pause_;
  std::string name_;
  Logger logger_;
  bool stopped_ = false;
  int reserve_fd_ = -1;  // kept open to accept-and-close when descriptors run out
  std::chrono::milliseconds backoff_{0};
  std::uint64_t failures_ = 0;  // since the last log line
  std::uint64_t shed_ = 0;      // connections closed unserved since the last log line
  std::chrono::steady_clock::time_point last_log_{};
  TaskGroup connections_;  // serve() of each accepted connection
};

}  // namespace dialback
