// Raw TCP helpers for the integration tests: a local TCP service whose
// connections run a coroutine each, and coroutines that connect, write
// everything, and read to EOF.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/asio.hpp"

namespace dialback::test {

// A local TCP service on 127.0.0.1 (any free port): each connection runs
// `serve`. stop() closes the acceptor; running connections go on.
class TcpService {
 public:
  using Serve = std::function<Task<void>(tcp::socket)>;

  TcpService(asio::any_io_executor executor, Serve serve);
  ~TcpService() { stop(); }

  std::uint16_t port() const { return port_; }
  void stop();

 private:
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
};

struct ReadAll {
  std::string data;
  error_code ec;  // what ended it: eof when the peer shut its side down
};

Task<ReadAll> read_all(tcp::socket& socket);
Task<error_code> write_all(tcp::socket& socket, std::string data);
Task<error_code> connect(tcp::socket& socket, tcp::endpoint endpoint);

// `count` consecutive ports on 127.0.0.1 that were free a moment ago (for
// an allocate range); the first of them.
std::uint16_t free_port_range(asio::any_io_executor executor, std::uint16_t count);

}  // namespace dialback::test
