#include "transport/poll/poll_pipe.hpp"

#include <algorithm>
#include <cstring>

namespace dialback::poll {

PollPipe::PollPipe(asio::any_io_executor executor, Limits limits)
    : limits_(limits), changed_(std::move(executor)) {}

std::size_t PollPipe::unacknowledged() const {
  std::size_t bytes = unsent_.size();
  for (const Sent& sent : sent_) bytes += sent.batch.bytes.size();
  return bytes;
}

PollPipe::Sent* PollPipe::find(std::uint64_t seq) {
  for (Sent& sent : sent_) {
    if (sent.batch.seq == seq) return &sent;
  }
  return nullptr;
}

Task<std::size_t> PollPipe::read_some(asio::mutable_buffer buffer, error_code& ec) {
  for (;;) {
    if (closed_ && close_reason_) {  // not an orderly end: like a reset connection
      ec = asio::error::connection_reset;
      co_return 0;
    }
    if (!inbound_.empty()) {
      const std::string& front = inbound_.front();
      const std::size_t n = std::min(buffer.size(), front.size() - inbound_offset_);
      std::memcpy(buffer.data(), front.data() + inbound_offset_, n);
      inbound_offset_ += n;
      inbound_bytes_ -= n;
      if (inbound_offset_ == front.size()) {
        inbound_.pop_front();
        inbound_offset_ = 0;
      }
      changed_.notify();  // receive() may wait for room
      co_return n;
    }
    if (closed_) {
      ec = asio::error::eof;
      co_return 0;
    }
    co_await changed_.wait();
  }
}

Task<void> PollPipe::write_all(asio::const_buffer buffer, error_code& ec) {
  if (closed_ || shutdown_) {
    ec = asio::error::broken_pipe;
    co_return;
  }
  unsent_.append(static_cast<const char*>(buffer.data()), buffer.size());
  changed_.notify();
  while (!closed_ && unacknowledged() > limits_.write_buffer) co_await changed_.wait();
  if (closed_) ec = asio::error::broken_pipe;
}

Task<std::optional<PollBatch>> PollPipe::take(Clock::time_point deadline, std::uint64_t peer_has,
                                              Clock::time_point asked_at) {
  for (;;) {
    if (closed_) co_return std::nullopt;
    for (Sent& sent : sent_) {
      if (sent.in_flight) continue;
      // Lost on the way: its delivery failed, or a poll that arrived after
      // it was delivered still does not have it.
      if (sent.failed || (sent.batch.seq > peer_has && sent.delivered_at < asked_at)) {
        sent.in_flight = true;
        sent.failed = false;
        co_return sent.batch;
      }
    }
    if (!unsent_.empty()) {
      const std::size_t n = std::min(unsent_.size(), limits_.max_batch);
      Sent sent;
      sent.batch.seq = next_seq_++;
      if (n == unsent_.size()) {
        sent.batch.bytes = std::move(unsent_);
        unsent_.clear();
      } else {
        sent.batch.bytes = unsent_.substr(0, n);
        unsent_.erase(0, n);
      }
      sent_.push_back(std::move(sent));
      co_return sent_.back().batch;
    }
    // (g++ 12: no co_await inside && or ||.)
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) co_return std::nullopt;
  }
}

void PollPipe::delivered(std::uint64_t seq) {
  if (Sent* sent = find(seq)) {
    sent->in_flight = false;
    sent->delivered_at = Clock::now();
  }
}

void PollPipe::failed(std::uint64_t seq) {
  if (Sent* sent = find(seq)) {
    sent->in_flight = false;
    sent->failed = true;
    changed_.notify();  // a waiting take() can hand it out again
  }
}

void PollPipe::acknowledge(std::uint64_t seq) {
  if (seq <= acknowledged_) return;
  acknowledged_ = seq;
  bool dropped = false;
  while (!sent_.empty() && sent_.front().batch.seq <= seq) {
    sent_.pop_front();
    dropped = true;
  }
  if (dropped) changed_.notify();  // writers may have room again
  close_if_flushed();
}

void PollPipe::close_if_flushed() {
  if (shutdown_ && unsent_.empty() && sent_.empty()) close();
}

void PollPipe::shutdown() {
  if (shutdown_ || closed_) return;
  shutdown_ = true;
  changed_.notify();
  close_if_flushed();
}

Task<void> PollPipe::wait_flushed(Clock::time_point deadline) {
  while (!closed_ && !(unsent_.empty() && sent_.empty())) {
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) co_return;
  }
}

void PollPipe::acknowledge_one(std::uint64_t seq) {
  const auto it = std::find_if(sent_.begin(), sent_.end(),
                               [seq](const Sent& sent) { return sent.batch.seq == seq; });
  if (it == sent_.end()) return;
  sent_.erase(it);
  changed_.notify();
  close_if_flushed();
}

Task<Result<void>> PollPipe::receive(std::uint64_t seq, std::string bytes) {
  if (closed_) co_return fail(Error::session_closed);
  if (seq <= received_through_ || ahead_.contains(seq)) co_return Result<void>{};  // a duplicate
  if (seq > received_through_ + limits_.max_ahead) co_return fail(Error::protocol_error);
  ahead_.emplace(seq, std::move(bytes));
  while (!ahead_.empty() && ahead_.begin()->first == received_through_ + 1) {
    std::string next = std::move(ahead_.begin()->second);
    ahead_.erase(ahead_.begin());
    ++received_through_;
    inbound_bytes_ += next.size();
    if (!next.empty()) inbound_.push_back(std::move(next));
  }
  changed_.notify();
  while (!closed_ && inbound_bytes_ > limits_.read_buffer) co_await changed_.wait();
  if (closed_ && close_reason_) co_return fail(close_reason_);
  co_return Result<void>{};
}

void PollPipe::close(std::error_code reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  changed_.notify();
}

}  // namespace dialback::poll
