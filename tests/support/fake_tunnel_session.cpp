#include "fake_tunnel_session.hpp"

#include <algorithm>

namespace dialback::test {

using Clock = std::chrono::steady_clock;

FakeTunnelSession::FakeTunnelSession(asio::any_io_executor executor, SessionIdentity identity)
    : executor_(executor), identity_(std::move(identity)), changed_(executor) {}

Task<std::unique_ptr<FakeIncomingStream>> FakeTunnelSession::next_incoming(
    Clock::time_point deadline) {
  while (incoming_.empty()) {
    if (Clock::now() >= deadline) co_return nullptr;
    co_await changed_.wait_until(deadline);
  }
  auto stream = std::move(incoming_.front());
  incoming_.pop_front();
  co_return stream;
}

Task<std::error_code> FakeTunnelSession::run() {
  while (!closed_) co_await changed_.wait();
  co_return close_reason_;
}

void FakeTunnelSession::close(Error reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = make_error_code(reason);
  for (auto& exchange : exchanges_) exchange->end_session(close_reason_);
  changed_.notify();
}

Task<std::size_t> FakeTunnelSession::drain(Clock::time_point deadline) {
  go_away();
  // The fakes tell nobody when a stream ends: poll, finely enough for tests.
  while (inflight() > 0 && !closed_ && Clock::now() < deadline) {
    co_await changed_.wait_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(2)));
  }
  const std::size_t cut = inflight();
  close(cut > 0 ? Error::timeout : Error::session_closed);
  co_return cut;
}

SessionStats FakeTunnelSession::stats() const {
  SessionStats stats;
  stats.inflight = inflight();
  stats.streams_total = streams_total_;
  return stats;
}

std::size_t FakeTunnelSession::inflight() const {
  return static_cast<std::size_t>(std::count_if(
      exchanges_.begin(), exchanges_.end(),
      [](const auto& exchange) { return !exchange->complete() && !exchange->aborted(); }));
}

Task<Result<std::unique_ptr<TunnelStream>>> FakeTunnelSession::open_stream(const RequestHead& head,
                                                                           bool end_stream) {
  ++open_calls_;
  if (closed_) co_return fail(Error::session_closed);
  if (going_away_) co_return fail(Error::stream_refused);
  if (open_error_) co_return fail(open_error_);
  auto pair = make_fake_stream_pair(executor_, head, end_stream, stream_options_);
  ++streams_total_;
  exchanges_.push_back(pair.exchange);
  incoming_.push_back(std::move(pair.answerer));
  changed_.notify();
  co_return std::unique_ptr<TunnelStream>(std::move(pair.opener));
}

}  // namespace dialback::test
