#include "tcp_direction.hpp"

#include <boost/asio/write.hpp>

#include "tcp_connection.hpp"

namespace dialback::loss_relay {
namespace {

// Large reads: one system call and one queue entry per 64 KiB at full speed.
constexpr std::size_t kReadBytes = 64 * 1024;
// Charged to --queue-bytes per chunk on top of its bytes, so that a flood of
// tiny reads cannot queue unbounded bookkeeping.
constexpr std::size_t kChunkOverhead = 64;
// At most this many chunks per write (well under IOV_MAX).
constexpr std::size_t kMostChunksPerWrite = 64;
// Chunks due this soon are written now, in the same write: a timer wait
// costs more than the lateness it avoids (0.1 ms, against delays of ms).
constexpr auto kEarly = std::chrono::microseconds(100);

}  // namespace

TcpDirection::TcpDirection(TcpConnection& connection, tcp::socket& source, tcp::socket& sink,
                           SegmentPlanner planner, TcpStats& stats, std::size_t queue_limit)
    : connection_(connection),
      source_(source),
      sink_(sink),
      planner_(std::move(planner)),
      stats_(stats),
      queue_limit_(queue_limit),
      timer_(source.get_executor()) {}

void TcpDirection::read() {
  if (reading_ || source_ended_ || connection_.closed()) return;
  if (queued_bytes_ >= queue_limit_) {
    // Backpressure: on_written() reads again once the queue has drained.
    check_followed(Clock::now());
    return;
  }
  reading_ = true;
  read_buffer_.resize(kReadBytes);
  source_.async_read_some(boost::asio::buffer(read_buffer_),
                          [self = connection_.shared_from_this(), this](
                              const error_code& ec, std::size_t bytes) { on_read(ec, bytes); });
}

void TcpDirection::on_read(const error_code& ec, std::size_t bytes) {
  reading_ = false;
  if (connection_.closed()) return;
  const auto now = Clock::now();
  if (ec == boost::asio::error::eof) {
    source_ended_ = true;
    Chunk end;
    end.due = planner_.plan_end(now);
    end.end = true;
    push(std::move(end));
    pump();
    return;
  }
  if (ec) {
    connection_.close();
    return;
  }
  enqueue(now, bytes);
  check_followed(now);
  pump();
  read();
}

void TcpDirection::enqueue(Clock::time_point now, std::size_t bytes) {
  pieces_.clear();
  if (auto update = planner_.plan(now, bytes, pieces_)) apply(*update);
  std::size_t offset = 0;
  for (const auto& piece : pieces_) {
    Chunk chunk;
    chunk.piece = piece.id;
    chunk.due = piece.due;
    chunk.segments = piece.segments;
    if (pieces_.size() == 1 && bytes > kReadBytes / 2) {
      // The whole read, without a copy; the next read gets a new buffer.
      read_buffer_.resize(bytes);
      chunk.bytes = std::move(read_buffer_);
      read_buffer_ = {};
    } else {
      // A copy of exactly its size: a small read must not pin 64 KiB.
      chunk.bytes.assign(read_buffer_.data() + offset, read_buffer_.data() + offset + piece.bytes);
    }
    offset += piece.bytes;
    push(std::move(chunk));
  }
}

void TcpDirection::push(Chunk chunk) {
  queued_bytes_ += chunk.bytes.size() + kChunkOverhead;
  queue_.push_back(std::move(chunk));
}

void TcpDirection::apply(const SegmentPlanner::Update& update) {
  // Recent: search from the back.
  for (auto it = queue_.rbegin(); it != queue_.rend(); ++it) {
    if (it->piece == update.id && !it->end) {
      it->due = update.due;
      return;
    }
  }
}

void TcpDirection::check_followed(Clock::time_point now) {
  if (!planner_.loss_pending()) return;
  error_code ec;
  if (source_.available(ec) == 0 || ec) return;
  if (auto update = planner_.followed(now)) {
    apply(*update);
    pump();  // the front may be due earlier now
  }
}

void TcpDirection::pump() {
  if (writing_ || connection_.closed() || queue_.empty()) return;
  const auto now = Clock::now();
  const auto& front = queue_.front();
  if (front.due > now + kEarly) {
    timer_.arm(front.due, [self = connection_.shared_from_this(), this] { pump(); });
    return;
  }
  if (front.end) {
    queued_bytes_ -= kChunkOverhead;
    queue_.pop_front();
    error_code ignored;
    sink_.shutdown(tcp::socket::shutdown_send, ignored);
    end_delivered_ = true;
    connection_.direction_finished();
    return;
  }
  std::vector<boost::asio::const_buffer> buffers;
  for (const auto& chunk : queue_) {
    if (chunk.end || chunk.due > now + kEarly || buffers.size() == kMostChunksPerWrite) break;
    buffers.emplace_back(chunk.bytes.data(), chunk.bytes.size());
  }
  writing_ = true;
  boost::asio::async_write(sink_, buffers,
                           [self = connection_.shared_from_this(), this, chunks = buffers.size()](
                               const error_code& ec, std::size_t) { on_written(ec, chunks); });
}

void TcpDirection::on_written(const error_code& ec, std::size_t chunks) {
  writing_ = false;
  if (connection_.closed()) return;
  if (ec) {
    connection_.close();
    return;
  }
  for (std::size_t i = 0; i < chunks; ++i) {
    const auto& chunk = queue_.front();
    stats_.segments += chunk.segments;
    stats_.bytes += chunk.bytes.size();
    queued_bytes_ -= chunk.bytes.size() + kChunkOverhead;
    queue_.pop_front();
  }
  pump();
  read();
}

}  // namespace dialback::loss_relay
