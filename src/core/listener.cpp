#include "core/listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dialback {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstPause{10};
constexpr std::chrono::milliseconds kLongestPause{250};
constexpr auto kLogInterval = std::chrono::seconds(1);
constexpr int kMostShedPerPause = 256;

bool out_of_resources(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         ec == error_code(ENFILE, asio::error::get_system_category());
}

}  // namespace

Listener::Listener(asio::any_io_executor executor, std::string name, Logger logger)
    : executor_(executor),
      acceptor_(executor),
      pause_(executor),
      name_(std::move(name)),
      logger_(std::move(logger)),
      connections_(executor, logger_, name_) {
  open_reserve();
}

Listener::~Listener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void Listener::open_reserve() {
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Result<tcp::endpoint> Listener::listen(const tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  return acceptor_.local_endpoint();
}

Task<void> Listener::accept_loop(Serve serve) {
  while (!stopped_) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted) break;
      if (out_of_resources(ec)) {
        co_await back_off(ec);
      } else {
        logger_->warn("{}: accept failed: {}", name_, ec.message());
      }
      continue;
    }
    backoff_ = std::chrono::milliseconds{0};
    connections_.spawn(serve(std::move(socket)));
  }
}

Task<void> Listener::back_off(const error_code& ec) {
  ++failures_;
  // Shed the backlog with the reserve descriptor: those clients are told
  // (a close) rather than left waiting for a descriptor that may not come.
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    for (int i = 0; i < kMostShedPerPause; ++i) {
      const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      ::close(fd);
      ++shed_;
    }
    open_reserve();
  }
  const auto now = Clock::now();
  if (now - last_log_ >= kLogInterval) {
    logger_->warn(
        "{}: accept failed: {} ({} times, {} waiting connections closed unserved; "
        "raise the descriptor limit, see docs/configuration.md)",
        name_, ec.message(), failures_, shed_);
    failures_ = 0;
    shed_ = 0;
    last_log_ = now;
  }
  backoff_ = backoff_.count() == 0 ? kFirstPause : std::min(backoff_ * 2, kLongestPause);
  pause_.expires_after(backoff_);
  error_code wait_ec;
  co_await pause_.async_wait(nothrow(wait_ec));
}

void Listener::stop() {
  stopped_ = true;
  error_code ec;
  acceptor_.close(ec);
  pause_.cancel();
}

}  // namespace dialback
