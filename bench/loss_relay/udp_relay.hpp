// One --udp forward: the listen socket and a table of UdpFlows, one per
// client address, at most --max-udp-flows (datagrams from more clients are
// dropped and counted); a flow idle for --udp-idle is closed. rebind()
// moves every flow to a new upstream port, as a NAT that rebinds does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "datagram_batch.hpp"
#include "relay_options.hpp"
#include "relay_stats.hpp"

namespace dialback::loss_relay {

namespace asio = boost::asio;
using udp = boost::asio::ip::udp;

class UdpFlow;

class UdpRelay {
 public:
  // recvmmsg batches a socket reads before the others get their turn.
  static constexpr int kMostBatchesPerTurn = 4;

  UdpRelay(asio::io_context& io, const PathOptions& options, ForwardSpec spec, std::uint64_t index);
  ~UdpRelay();

  // Resolves the target and binds bind:LISTEN_PORT; an error message, or "".
  std::string listen(const asio::ip::address& bind);
  const std::string& name() const { return name_; }
  void print_stats(std::FILE* out) const;
  // Every flow replaces its upstream socket by one on a new local port
  // (SIGUSR1); returns how many did. A flow that cannot open a socket keeps
  // its old one, with a message on stderr.
  std::size_t rebind();

  // For its flows.
  const PathOptions& options() const { return options_; }
  std::uint64_t index() const { return index_; }
  UdpStats& stats(Direction direction) { return direction == Direction::up ? up_ : down_; }
  udp::socket& listener() { return listener_; }
  // One receive and one send batch for the listener and every flow: reads
  // and sends are synchronous (after a readiness wait) on this single
  // thread, so a flow costs no buffers of its own while it waits.
  ReceiveBatch& receive_batch() { return receive_batch_; }
  SendBatch& send_batch() { return send_batch_; }

 private:
  void wait_clients();
  void read_clients();
  std::shared_ptr<UdpFlow> flow_for(const udp::endpoint& client, Clock::time_point now);
  void expire_idle(Clock::time_point now);
  void schedule_sweep();

  asio::io_context& io_;
  const PathOptions& options_;
  const ForwardSpec spec_;
  const std::uint64_t index_;
  std::string name_;
  udp::socket listener_;
  udp::endpoint target_;
  std::map<udp::endpoint, std::shared_ptr<UdpFlow>> flows_;
  ReceiveBatch receive_batch_;
  SendBatch send_batch_;
  std::vector<std::shared_ptr<UdpFlow>> batch_flows_;  // the flows the last batch came from
  asio::steady_timer sweep_;
  UdpStats up_;
  UdpStats down_;
  std::uint64_t flows_total_ = 0;
  std::uint64_t rebinds_ = 0;  // flows moved to a new upstream port, since start
};

// Socket buffers of the relay's UDP sockets: a burst at ~1 Gbit/s must not
// overflow the kernel's default (~200 KiB) before the loop reads it. The
// kernel caps it at net.core.rmem_max / wmem_max.
constexpr int kUdpSocketBuffer = 4 << 20;

}  // namespace dialback::loss_relay
