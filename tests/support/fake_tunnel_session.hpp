// FakeTunnelSession: a TunnelSession that opens FakeStreamPairs in memory.
// open_stream() hands the opening end to the caller and queues the answering
// end for the test, which plays the agent with next_incoming(). Opens can be
// made to fail (fail_opens) to stand for a session that just began draining
// or lost its connection. All calls on its executor.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <system_error>
#include <vector>

#include "core/async_event.hpp"
#include "fake_streams.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::test {

class FakeTunnelSession final : public TunnelSession {
 public:
  FakeTunnelSession(asio::any_io_executor executor, SessionIdentity identity);

  // Every later open_stream() fails with `error`; an empty code lets them succeed again.
  void fail_opens(std::error_code error) { open_error_ = error; }
  // Options of the streams opened from now on.
  void set_stream_options(FakeStreamOptions options) { stream_options_ = options; }

  // The answering end of the next stream opened, in order; nullptr when none
  // was opened by `deadline`.
  Task<std::unique_ptr<FakeIncomingStream>> next_incoming(
      std::chrono::steady_clock::time_point deadline);

  // open_stream() calls so far, failed ones included.
  std::size_t open_calls() const { return open_calls_; }
  // Every exchange opened, in order.
  const std::vector<std::shared_ptr<FakeExchange>>& exchanges() const { return exchanges_; }

  // Session
  Task<std::error_code> run() override;
  // Ends every open stream with `reason` (the opener's side; FakeExchange::end_session).
  void close(Error reason) override;
  Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) override;
  const SessionIdentity& identity() const override { return identity_; }
  SessionStats stats() const override;
  asio::any_io_executor executor() const override { return executor_; }

  // TunnelSession
  bool accepting() const override { return !going_away_ && !closed_; }
  Task<Result<std::unique_ptr<TunnelStream>>> open_stream(const RequestHead& head,
                                                          bool end_stream) override;
  void go_away() override { going_away_ = true; }

 private:
  std::size_t inflight() const;

  asio::any_io_executor executor_;
  SessionIdentity identity_;
  FakeStreamOptions stream_options_;
  std::error_code open_error_;
  std::size_t open_calls_ = 0;
  std::uint64_t streams_total_ = 0;
  std::vector<std::shared_ptr<FakeExchange>> exchanges_;
  std::deque<std::unique_ptr<FakeIncomingStream>> incoming_;
  AsyncEvent changed_;
  bool going_away_ = false;
  bool closed_ = false;
  std::error_code close_reason_;
};

}  // namespace dialback::test
