// TcpProxy: a TCP relay put between an agent and the edge, so that a test
// can cut the agent's sessions abruptly (a killed process or a dead network,
// as the edge sees it: the connection is reset, no GOAWAY, no close_notify).
#pragma once

#include <list>
#include <memory>

#include "core/asio.hpp"

namespace dialback::test {

class TcpProxy {
 public:
  TcpProxy(asio::any_io_executor executor, tcp::endpoint target);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Binds 127.0.0.1:0 and starts relaying to the target.
  tcp::endpoint start();
  // Resets every relayed connection (RST on both sides) without stopping.
  void kill_all();
  // Closes the listener and every connection.
  void stop();
  bool idle() const { return running_ == 0; }
  std::size_t connections() const { return pairs_.size(); }

 private:
  struct Pair;
  Task<void> accept_loop();
  Task<void> serve(tcp::socket downstream);
  static Task<void> pipe(tcp::socket& from, tcp::socket& to, std::shared_ptr<Pair> pair);

  asio::any_io_executor executor_;
  tcp::endpoint target_;
  tcp::acceptor acceptor_;
  std::list<std::shared_ptr<Pair>> pairs_;
  bool stopping_ = false;
  int running_ = 0;
};

}  // namespace dialback::test
