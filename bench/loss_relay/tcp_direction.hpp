// One direction of a relayed TCP connection: reads from `source`, plans
// each read with a SegmentPlanner (which bytes are held back by a "lost"
// segment, and until when), queues the pieces and writes each to `sink`
// when it is due, in order. Backpressure: no read while --queue-bytes are
// queued, so a fast sender is slowed by TCP's own flow control.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "due_timer.hpp"
#include "segment_planner.hpp"

namespace dialback::loss_relay {

using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

class TcpConnection;

class TcpDirection {
 public:
  TcpDirection(TcpConnection& connection, tcp::socket& source, tcp::socket& sink,
               SegmentPlanner planner, TcpStats& stats, std::size_t queue_limit);

  void start() { read(); }
  void stop() { timer_.cancel(); }
  // The source's end of stream has been passed on (the sink shut down).
  bool finished() const { return end_delivered_; }

 private:
  struct Chunk {
    std::uint64_t piece = 0;
    Clock::time_point due{};
    std::vector<char> bytes;
    std::uint64_t segments = 0;
    bool end = false;  // the source's end of stream, passed on as a shutdown
  };

  void read();
  void on_read(const error_code& ec, std::size_t bytes);
  void enqueue(Clock::time_point now, std::size_t bytes);
  void apply(const SegmentPlanner::Update& update);
  // A loss pending at the end of what was read counts as followed when the
  // socket already holds more.
  void check_followed(Clock::time_point now);
  void pump();
  void on_written(const error_code& ec, std::size_t chunks);
  void push(Chunk chunk);

  TcpConnection& connection_;
  tcp::socket& source_;
  tcp::socket& sink_;
  SegmentPlanner planner_;
  TcpStats& stats_;
  const std::size_t queue_limit_;

  std::deque<Chunk> queue_;
  std::size_t queued_bytes_ = 0;  // payload plus kChunkOverhead per chunk
  std::vector<char> read_buffer_;
  std::vector<SegmentPlanner::Piece> pieces_;  // of the last read, reused
  DueTimer timer_;
  bool reading_ = false;
  bool writing_ = false;
  bool source_ended_ = false;
  bool end_delivered_ = false;
};

}  // namespace dialback::loss_relay
