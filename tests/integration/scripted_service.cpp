#include "scripted_service.hpp"

#include <array>
#include <cstdio>

namespace dialback::test {

ScriptedService::Conn::Conn(ScriptedService& service, tcp::socket socket)
    : service_(service), socket_(std::move(socket)) {}

void ScriptedService::Conn::mark_gone() {
  if (peer_gone_) return;
  peer_gone_ = true;
  if (!service_.peer_gone_at_) service_.peer_gone_at_ = Clock::now();
}

Task<bool> ScriptedService::Conn::read_head() {
  for (;;) {
    const auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head_ = pending_.substr(0, end + 4);
      pending_.erase(0, end + 4);
      bytes_read_ = pending_.size();
      service_.body_bytes_ += pending_.size();
      ++service_.heads_read_;
      co_return true;
    }
    std::array<char, 16 * 1024> buffer;
    error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer), nothrow(ec));
    pending_.append(buffer.data(), n);
    if (ec) {
      mark_gone();
      co_return false;
    }
  }
}

Task<std::size_t> ScriptedService::Conn::read_some() {
  std::array<char, 64 * 1024> buffer;
  error_code ec;
  const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer), nothrow(ec));
  pending_.append(buffer.data(), n);
  bytes_read_ += n;
  service_.body_bytes_ += n;
  if (ec) {
    mark_gone();
    co_return 0;
  }
  co_return n;
}

Task<bool> ScriptedService::Conn::write(std::string bytes) {
  error_code ec;
  co_await asio::async_write(socket_, asio::buffer(bytes), nothrow(ec));
  if (ec) mark_gone();
  co_return !ec;
}

Task<bool> ScriptedService::Conn::pause(std::chrono::milliseconds duration) {
  if (service_.stopping_) co_return false;
  asio::steady_timer timer(service_.executor_);
  auto listed = service_.timers_.insert(service_.timers_.end(), &timer);
  timer.expires_after(duration);
  error_code ec;
  co_await timer.async_wait(nothrow(ec));
  service_.timers_.erase(listed);
  co_return !service_.stopping_;
}

void ScriptedService::Conn::close() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

void ScriptedService::Conn::reset() {
  error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

ScriptedService::ScriptedService(asio::any_io_executor executor, Script script)
    : executor_(executor), script_(std::move(script)), acceptor_(executor) {}

ScriptedService::~ScriptedService() = default;

tcp::endpoint ScriptedService::start() {
  const tcp::endpoint any(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(any.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(any);
  acceptor_.listen();
  endpoint_ = acceptor_.local_endpoint();
  ++running_;
  asio::co_spawn(executor_, accept_loop(), asio::detached);
  return endpoint_;
}

void ScriptedService::stop() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto* socket : sockets_) socket->close(ignored);
  for (auto* timer : timers_) timer->cancel();
}

Task<void> ScriptedService::accept_loop() {
  while (!stopping_) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
    if (ec) {
      if (stopping_) break;
      continue;
    }
    ++accepted_;
    ++running_;
    asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
  }
  --running_;
}

Task<void> ScriptedService::serve(tcp::socket socket) {
  Conn conn(*this, std::move(socket));
  auto listed = sockets_.insert(sockets_.end(), &conn.socket_);
  ++scripts_running_;
  co_await script_(conn);
  --scripts_running_;
  sockets_.erase(listed);
  error_code ignored;
  conn.socket_.close(ignored);
  --running_;
}

std::string chunked_response_head(std::string_view extra_fields) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
         "Transfer-Encoding: chunked\r\n" +
         std::string(extra_fields) + "\r\n";
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

}  // namespace dialback::test
