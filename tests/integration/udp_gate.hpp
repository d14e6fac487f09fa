// UdpGate: a UDP relay for one client in front of a UDP service, which a
// test opens and closes: closed, it drops every datagram both ways, as a
// network that blocks UDP would.
#pragma once

#include "core/asio.hpp"

namespace dialback::test {

class UdpGate {
 public:
  using udp = asio::ip::udp;

  UdpGate(asio::any_io_executor executor, udp::endpoint target);
  UdpGate(const UdpGate&) = delete;
  UdpGate& operator=(const UdpGate&) = delete;

  // Binds 127.0.0.1:0 and starts relaying (closed until set_open(true)).
  udp::endpoint start();
  void set_open(bool open) { open_ = open; }
  // Closes both sockets; the relay loops end soon after (idle()).
  void stop();
  bool idle() const { return running_ == 0; }
  std::size_t dropped() const { return dropped_; }

 private:
  Task<void> from_client();
  Task<void> from_service();

  udp::socket front_;  // the client's side
  udp::socket back_;   // connected to the service
  udp::endpoint client_;
  bool open_ = false;
  int running_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace dialback::test
