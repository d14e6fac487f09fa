// DemoService: the small local web service `dialback demo` puts behind its
// tunnel: "/" is a page, "/echo" returns the request it received.
#pragma once

#include "core/asio.hpp"
#include "core/result.hpp"

namespace dialback::cli {

class DemoService {
 public:
  explicit DemoService(asio::any_io_executor executor);
  // Listens on 127.0.0.1 with a free port.
  Result<tcp::endpoint> start();
  void stop();

 private:
  Task<void> accept_loop();
  Task<void> serve(tcp::socket socket);

  asio::any_io_executor executor_;
  tcp::acceptor acceptor_;
};

}  // namespace dialback::cli
