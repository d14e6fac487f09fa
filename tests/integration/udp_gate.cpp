#include "udp_gate.hpp"

#include <array>

namespace dialback::test {

UdpGate::UdpGate(asio::any_io_executor executor, udp::endpoint target)
    : front_(executor), back_(executor) {
  back_.open(target.protocol());
  back_.connect(target);
}

UdpGate::udp::endpoint UdpGate::start() {
  front_.open(udp::v4());
  front_.bind({asio::ip::address_v4::loopback(), 0});
  running_ = 2;
  asio::co_spawn(front_.get_executor(), from_client(), asio::detached);
  asio::co_spawn(front_.get_executor(), from_service(), asio::detached);
  return front_.local_endpoint();
}

void UdpGate::stop() {
  error_code ignored;
  front_.close(ignored);
  back_.close(ignored);
}

Task<void> UdpGate::from_client() {
  std::array<std::uint8_t, 65536> buffer;
  udp::endpoint from;
  for (;;) {
    error_code ec;
    const std::size_t n =
        co_await front_.async_receive_from(asio::buffer(buffer), from, nothrow(ec));
    if (ec == asio::error::operation_aborted || !front_.is_open()) break;
    if (ec) continue;
    if (!open_) {
      ++dropped_;
      continue;
    }
    client_ = from;
    back_.send(asio::buffer(buffer.data(), n), 0, ec);
  }
  --running_;
}

Task<void> UdpGate::from_service() {
  std::array<std::uint8_t, 65536> buffer;
  for (;;) {
    error_code ec;
    const std::size_t n = co_await back_.async_receive(asio::buffer(buffer), nothrow(ec));
    if (ec == asio::error::operation_aborted || !back_.is_open()) break;
    if (ec) continue;  // ICMP from the service's port
    if (!open_ || client_.port() == 0) {
      ++dropped_;
      continue;
    }
    front_.send_to(asio::buffer(buffer.data(), n), client_, 0, ec);
  }
  --running_;
}

}  // namespace dialback::test
