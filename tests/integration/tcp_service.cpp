#include "tcp_service.hpp"

#include <array>
#include <stdexcept>
#include <vector>

namespace dialback::test {
namespace {

Task<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, TcpService::Serve serve) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(nothrow(ec));
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

TcpService::TcpService(asio::any_io_executor executor, Serve serve)
    : acceptor_(std::make_shared<tcp::acceptor>(
          executor, tcp::endpoint(asio::ip::address_v4::loopback(), 0))),
      port_(acceptor_->local_endpoint().port()) {
  asio::co_spawn(executor, accept_loop(acceptor_, std::move(serve)), asio::detached);
}

void TcpService::stop() {
  error_code ignored;
  acceptor_->close(ignored);
}

Task<ReadAll> read_all(tcp::socket& socket) {
  ReadAll result;
  std::array<char, 16384> chunk;
  for (;;) {
    const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), nothrow(result.ec));
    result.data.append(chunk.data(), n);
    if (result.ec) co_return result;
  }
}

Task<error_code> write_all(tcp::socket& socket, std::string data) {
  error_code ec;
  co_await asio::async_write(socket, asio::buffer(data), nothrow(ec));
  co_return ec;
}

Task<error_code> connect(tcp::socket& socket, tcp::endpoint endpoint) {
  error_code ec;
  co_await socket.async_connect(endpoint, nothrow(ec));
  co_return ec;
}

std::uint16_t free_port_range(asio::any_io_executor executor, std::uint16_t count) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    tcp::acceptor probe(executor, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const std::uint16_t first = probe.local_endpoint().port();
    probe.close();
    if (first > 65535 - count) continue;
    std::vector<tcp::acceptor> held;
    bool all_free = true;
    for (std::uint16_t i = 0; i < count && all_free; ++i) {
      tcp::acceptor next(executor);
      error_code ec;
      next.open(tcp::v4(), ec);
      if (!ec) next.bind(tcp::endpoint(asio::ip::address_v4::loopback(), first + i), ec);
      all_free = !ec;
      held.push_back(std::move(next));
    }
    if (all_free) return first;
  }
  throw std::runtime_error("no range of free ports found");
}

}  // namespace dialback::test
