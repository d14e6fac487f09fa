#include "udp_flow.hpp"

#include <boost/asio/post.hpp>

#include "udp_relay.hpp"

namespace dialback::loss_relay {
namespace {

// Charged to --queue-bytes per datagram on top of its payload, so that a
// flood of tiny datagrams cannot queue unbounded bookkeeping.
constexpr std::size_t kDatagramOverhead = 64;
// Datagrams due this soon are sent now, in the same batch: a timer wait
// costs more than the lateness it avoids (0.1 ms, against delays of ms).
constexpr auto kEarly = std::chrono::microseconds(100);
// recvmmsg batches read from the old socket at a rebind: what its buffer
// held (up to 1024 datagrams), not whatever the target keeps sending.
constexpr int kDrainBatches = 16;

StreamId stream(UdpRelay& relay, std::uint64_t index, Direction direction) {
  return StreamId{Protocol::udp, relay.index(), index, direction};
}

}  // namespace

UdpFlow::UdpFlow(UdpRelay& relay, const udp::endpoint& client, std::uint64_t index)
    : relay_(relay),
      client_(client),
      upstream_(relay.listener().get_executor()),
      up_(relay.options(), stream(relay, index, Direction::up), relay.stats(Direction::up),
          upstream_.get_executor()),
      down_(relay.options(), stream(relay, index, Direction::down), relay.stats(Direction::down),
            upstream_.get_executor()),
      last_active_(Clock::now()) {}

error_code UdpFlow::open(const udp::endpoint& target) {
  target_ = target;
  if (auto ec = connect_upstream(upstream_)) {
    close();
    return ec;
  }
  wait_target();
  return {};
}

error_code UdpFlow::connect_upstream(udp::socket& socket) const {
  error_code ec;
  socket.open(target_.protocol(), ec);
  if (!ec) socket.non_blocking(true, ec);
  if (!ec) {
    error_code ignored;  // the kernel caps them; smaller buffers still work
    socket.set_option(udp::socket::receive_buffer_size(kUdpSocketBuffer), ignored);
    socket.set_option(udp::socket::send_buffer_size(kUdpSocketBuffer), ignored);
  }
  // Connected: the kernel picks the source address and port (one 4-tuple
  // per client) and passes on only the target's datagrams.
  if (!ec) socket.connect(target_, ec);
  if (ec) {
    error_code ignored;
    socket.close(ignored);
  }
  return ec;
}

error_code UdpFlow::rebind() {
  if (closed_) return {};
  // The new socket is bound before the old one closes, so the kernel cannot
  // hand the old port straight back: the target must see a new port.
  udp::socket fresh(upstream_.get_executor());
  if (auto ec = connect_upstream(fresh)) return ec;
  // What the target sent to the old port before now was already past the
  // NAT: deliver it. What it sends there from now on is lost (the kernel
  // answers port unreachable), as after a real rebinding, until the
  // client's next datagram shows the target the new port.
  (void)receive_target(upstream_.native_handle(), kDrainBatches);
  ++generation_;
  error_code ignored;
  upstream_.close(ignored);  // its pending wait completes with operation_aborted
  upstream_ = std::move(fresh);
  wait_target();
  return {};
}

void UdpFlow::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  upstream_.close(ignored);
  up_.timer.cancel();
  down_.timer.cancel();
}

void UdpFlow::from_client(std::span<const std::byte> datagram, Clock::time_point now) {
  last_active_ = now;
  enqueue(up_, datagram, now);
}

void UdpFlow::enqueue(Lane& lane, std::span<const std::byte> datagram, Clock::time_point now) {
  if (lane.impairment.lose()) {
    ++lane.stats.lost;
    return;
  }
  const auto charge = datagram.size() + kDatagramOverhead;
  if (lane.queued_bytes + charge > relay_.options().queue_bytes) {
    ++lane.stats.queue_full;
    return;
  }
  lane.queued_bytes += charge;
  lane.queue.push_back(Datagram{lane.impairment.arrival(now),
                                std::vector<std::byte>(datagram.begin(), datagram.end())});
}

void UdpFlow::pump(Lane& lane) {
  if (closed_) return;
  const bool up = lane.direction == Direction::up;
  const int fd = up ? upstream_.native_handle() : relay_.listener().native_handle();
  const auto now = Clock::now();
  auto& batch = relay_.send_batch();
  while (!lane.queue.empty() && lane.queue.front().due <= now + kEarly) {
    batch.clear();
    for (const auto& datagram : lane.queue) {
      if (datagram.due > now + kEarly || batch.full()) break;
      batch.add(datagram.bytes, up ? nullptr : &client_);
    }
    const int sent = batch.send(fd);
    // The one after those sent failed: dropped, as by a full interface
    // queue, rather than stall every other flow on a blocking send.
    const int done = sent < batch.size() ? sent + 1 : sent;
    for (int i = 0; i < done; ++i) {
      const auto& datagram = lane.queue.front();
      if (i < sent) {
        ++lane.stats.passed;
        lane.stats.bytes += datagram.bytes.size();
      } else {
        ++lane.stats.send_failed;
      }
      lane.queued_bytes -= datagram.bytes.size() + kDatagramOverhead;
      lane.queue.pop_front();
    }
  }
  if (!lane.queue.empty()) {
    lane.timer.arm(lane.queue.front().due,
                   [self = shared_from_this(), &lane] { self->pump(lane); });
  }
}

void UdpFlow::wait_target() {
  upstream_.async_wait(udp::socket::wait_read,
                       [self = shared_from_this(), generation = generation_](const error_code& ec) {
                         if (ec) return;
                         self->read_target(generation);
                       });
}

void UdpFlow::read_target(std::uint64_t generation) {
  if (closed_ || generation != generation_) return;  // closed, or rebound meanwhile
  if (receive_target(upstream_.native_handle(), UdpRelay::kMostBatchesPerTurn)) {
    wait_target();
    return;
  }
  boost::asio::post(upstream_.get_executor(),
                    [self = shared_from_this(), generation] { self->read_target(generation); });
}

bool UdpFlow::receive_target(int fd, int batches) {
  auto& batch = relay_.receive_batch();
  for (int round = 0; round < batches; ++round) {
    const int received = batch.receive(fd);
    const auto now = Clock::now();
    if (received > 0) last_active_ = now;
    for (int i = 0; i < received; ++i) enqueue(down_, batch.datagram(i), now);
    pump(down_);
    if (batch.drained()) return true;
  }
  return false;
}

}  // namespace dialback::loss_relay
