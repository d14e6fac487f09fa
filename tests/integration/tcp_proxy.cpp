#include "tcp_proxy.hpp"

#include <array>

#include "core/async_event.hpp"

namespace dialback::test {

struct TcpProxy::Pair {
  explicit Pair(asio::any_io_executor executor)
      : downstream(executor), upstream(executor), done(executor) {}
  tcp::socket downstream;
  tcp::socket upstream;
  AsyncEvent done;
  int pipes = 0;

  void reset() {
    error_code ignored;
    for (auto* socket : {&downstream, &upstream}) {
      if (!socket->is_open()) continue;
      socket->set_option(asio::socket_base::linger(true, 0), ignored);  // RST, not FIN
      socket->close(ignored);
    }
  }
};

TcpProxy::TcpProxy(asio::any_io_executor executor, tcp::endpoint target)
    : executor_(executor), target_(target), acceptor_(executor) {}

TcpProxy::~TcpProxy() = default;

tcp::endpoint TcpProxy::start() {
  const tcp::endpoint any(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(any.protocol());
  acceptor_.bind(any);
  acceptor_.listen();
  ++running_;
  asio::co_spawn(executor_, accept_loop(), asio::detached);
  return acceptor_.local_endpoint();
}

void TcpProxy::kill_all() {
  for (auto& pair : pairs_) pair->reset();
}

void TcpProxy::stop() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  kill_all();
}

Task<void> TcpProxy::accept_loop() {
  while (!stopping_) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
    if (ec) {
      if (stopping_) break;
      continue;
    }
    ++running_;
    asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
  }
  --running_;
}

Task<void> TcpProxy::serve(tcp::socket downstream) {
  auto pair = std::make_shared<Pair>(executor_);
  pair->downstream = std::move(downstream);
  auto self = pairs_.insert(pairs_.end(), pair);
  error_code ec;
  co_await pair->upstream.async_connect(target_, nothrow(ec));
  if (!ec && !stopping_) {
    pair->pipes = 2;
    asio::co_spawn(executor_, pipe(pair->downstream, pair->upstream, pair), asio::detached);
    asio::co_spawn(executor_, pipe(pair->upstream, pair->downstream, pair), asio::detached);
    while (pair->pipes > 0) co_await pair->done.wait();
  }
  pair->reset();
  pairs_.erase(self);
  --running_;
}

Task<void> TcpProxy::pipe(tcp::socket& from, tcp::socket& to, std::shared_ptr<Pair> pair) {
  std::array<char, 16384> buffer;
  for (;;) {
    error_code ec;
    const std::size_t n = co_await from.async_read_some(asio::buffer(buffer), nothrow(ec));
    if (ec) {
      if (ec == asio::error::eof && to.is_open()) to.shutdown(tcp::socket::shutdown_send, ec);
      else pair->reset();
      break;
    }
    co_await asio::async_write(to, asio::buffer(buffer.data(), n), nothrow(ec));
    if (ec) {
      pair->reset();
      break;
    }
  }
  --pair->pipes;
  pair->done.notify();
}

}  // namespace dialback::test
