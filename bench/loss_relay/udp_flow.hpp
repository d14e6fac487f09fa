// One client of a --udp forward, as a NAT sees it: its own upstream socket
// connected to the target (so the target sees one 4-tuple per client), and
// a timed queue each way. Datagrams are dropped with probability --loss,
// the others delivered after --delay (+ --jitter) in the order they came.
// Owned by the UdpRelay's flow table and by the handlers of its pending
// operations, so it lives until those completed after close(). rebind()
// swaps the upstream socket for one on a new local port (SIGUSR1), so the
// target sees the client move, as after a NAT rebinding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "due_timer.hpp"
#include "impairment.hpp"
#include "relay_stats.hpp"

namespace dialback::loss_relay {

using udp = boost::asio::ip::udp;
using error_code = boost::system::error_code;

class UdpRelay;

class UdpFlow : public std::enable_shared_from_this<UdpFlow> {
 public:
  UdpFlow(UdpRelay& relay, const udp::endpoint& client, std::uint64_t index);

  // Opens the upstream socket, connected to `target`, and starts reading it.
  error_code open(const udp::endpoint& target);
  void close();
  // Replaces the upstream socket by a new one (a new local port, connected
  // to the same target): from now on the target sees this client's
  // datagrams come from another port. On an error the old socket stays.
  error_code rebind();
  // A datagram the client sent to the listen port, queued; the relay calls
  // send_up() after each batch it read, so that sends are batched too.
  void from_client(std::span<const std::byte> datagram, Clock::time_point now);
  void send_up() { pump(up_); }
  Clock::time_point last_active() const { return last_active_; }
  bool is(const udp::endpoint& client) const { return client == client_; }

 private:
  struct Datagram {
    Clock::time_point due{};
    std::vector<std::byte> bytes;
  };
  // The timed queue of one direction.
  struct Lane {
    Lane(const PathOptions& options, const StreamId& stream, UdpStats& totals,
         const boost::asio::any_io_executor& executor)
        : direction(stream.direction),
          impairment(options, stream),
          stats(totals),
          timer(executor) {}
    Direction direction;
    Impairment impairment;
    UdpStats& stats;
    std::deque<Datagram> queue;
    std::size_t queued_bytes = 0;  // payload plus kDatagramOverhead each
    DueTimer timer;
  };

  // Opens `socket` connected to target_, with the relay's buffer sizes.
  error_code connect_upstream(udp::socket& socket) const;
  void enqueue(Lane& lane, std::span<const std::byte> datagram, Clock::time_point now);
  // Sends what is due, arms the lane's timer for the rest.
  void pump(Lane& lane);
  // Both take the socket generation they were started for: a wait that
  // completed just before a rebind must not start a second reader on the
  // new socket.
  void wait_target();
  void read_target(std::uint64_t generation);
  // Receives into the down lane what `fd` holds now (at most `batches`
  // recvmmsg calls); false when more may be waiting.
  bool receive_target(int fd, int batches);

  UdpRelay& relay_;
  const udp::endpoint client_;
  udp::endpoint target_;
  udp::socket upstream_;
  std::uint64_t generation_ = 0;  // bumped by each rebind()
  Lane up_;
  Lane down_;
  Clock::time_point last_active_;
  bool closed_ = false;
};

}  // namespace dialback::loss_relay
