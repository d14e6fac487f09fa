// One relayed TCP connection: the accepted client socket, the upstream
// socket connected to the target, and a TcpDirection each way. Owned by the
// handlers of its pending operations (shared_from_this), so it lives until
// the last of them has completed after close().
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "tcp_direction.hpp"

namespace dialback::loss_relay {

class TcpRelay;

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(TcpRelay& relay, tcp::socket client, std::uint64_t index);

  void start(const tcp::resolver::results_type& targets);
  // Both sockets closed, whatever is queued discarded: an error or reset on
  // either side ends the whole connection.
  void close();
  bool closed() const { return closed_; }
  // A direction passed its end of stream on; when both have, close().
  void direction_finished();

 private:
  void on_connected(const error_code& ec);

  TcpRelay& relay_;
  tcp::socket client_;
  tcp::socket upstream_;
  TcpDirection up_;
  TcpDirection down_;
  bool closed_ = false;
};

}  // namespace dialback::loss_relay
