// In-memory fakes of the two ends of one tunneled exchange: FakeTunnelStream
// (the side that opened it: TunnelStream, the edge's view) and
// FakeIncomingStream (the side that answers: IncomingStream, the agent's
// view), joined by a shared FakeExchange. No transport, no bytes on a wire:
// what one end writes the other reads, on one executor.
//
// THE STREAM CONTRACT. Every transport's streams (today H2TunnelStream and
// H2IncomingStream, src/transport/h2/h2_stream_handle.*) behave like this;
// the fakes implement exactly this, and tests/unit/stream_contract_test.cpp
// runs the same cases against the fakes and a real HTTP/2 stream pair. Taken
// from the interfaces' comments (src/tunnel/stream_body.hpp,
// tunnel_stream.hpp, incoming_stream.hpp) and the h2 implementation.
//
//  1. Heads first. The answerer sees the opener's request head complete
//     (request()) before any body byte; has_body() is false exactly when the
//     stream was opened with end_stream. read_response() returns each 1xx
//     the answerer sent with respond_informational(), in order, then the
//     final head of respond(). respond_informational() with a status that is
//     not 1xx, or is 101, fails with Error::protocol_error.
//  2. Bodies in order. read_body() returns the bytes of the peer's
//     write_body() calls in order and unmodified; chunk boundaries may differ
//     (compare concatenations). The answerer's write_body() before respond()
//     fails with Error::protocol_error.
//  3. End of stream. After the peer's end_body(trailers), or a head sent
//     with end_stream, read_body() returns every queued chunk, then nullopt,
//     and nullopt again on every later call. trailers() is final once
//     nullopt was returned (empty when none were sent). After read_response()
//     returned the final head, response_has_body() is false when that head
//     ended the response (respond(head, true)).
//  4. One end per direction. write_body() or end_body() after this side's
//     end_body() fails with Error::protocol_error; end_body() after a head
//     that ended the direction (opened with end_stream, respond(head, true))
//     succeeds and does nothing.
//  5. Backpressure. write_body() completes once the bytes are queued and
//     the transport has room for more, not when the peer read them. A writer
//     whose peer does not read is suspended after a bounded amount (h2: its
//     stream_send_buffer plus the peer's stream window; the fake:
//     FakeStreamOptions::write_buffer) and resumes as the peer reads.
//  6. Deadlines. read_response(deadline) fails with Error::timeout once
//     `deadline` passed without a head. That does not reset the stream:
//     read_response() may be called again and still gets the head.
//     read_body() and write_body() have no deadline; a caller bounds them by
//     resetting the stream (IdleTimeoutStream).
//  7. Reset. reset(reason) aborts both directions unless the exchange
//     already completed (then it does nothing). This side's pending and
//     later calls fail with `reason`; the peer's fail with
//     Error::stream_refused when `reason` is stream_refused or draining,
//     with Error::stream_reset otherwise. read_body() still returns chunks
//     that were queued before the failure, then fails. A pending call ends
//     only when the transport processed the reset (later, on the executor,
//     never inside reset()).
//  8. Dropping a handle. Destroying a handle whose exchange is incomplete
//     (either body not ended) resets the stream: the peer sees
//     Error::stream_reset.
//  9. Session end. When the session carrying the stream ends, pending and
//     later calls fail: on the side whose session was closed with
//     close(reason), with `reason`; on the other side with an error
//     (Error::session_closed when the transport ended in order). A handle
//     may outlive its session.
// 10. on_abort(handler) runs the handler once, posted on the executor (never
//     inside reset() or a transport callback), when the stream ended before
//     both directions completed: a reset from either side (this side's own
//     reset() included) or the session's end. A handler installed after that
//     runs too; a new handler replaces the previous one; it never runs after
//     a normal end, nor after the handle was destroyed.
// 11. body_ready() is true exactly when read_body() would complete without
//     waiting: a chunk is queued, the body ended, or the stream failed.
// 12. After a failure, write_body(), respond() and respond_informational()
//     fail with this side's error; end_body() succeeds when this side had
//     already ended its body, and fails with that error otherwise.
// 13. Threading. Every call on the stream's executor; at most one reader and
//     one writer coroutine per handle at a time.
//
// Not specified (the fakes pick one, tests must not rely on it): a second
// respond(), end_body() of an answerer before respond() (h2 ignores it),
// read_response() after the final head was returned.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/async_event.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::test {

struct FakeStreamOptions {
  // A writer's write_body() waits while this many bytes it wrote, or more,
  // are unread by the peer (clause 5).
  std::size_t write_buffer = 256u << 10;
};

class FakeTunnelStream;
class FakeIncomingStream;

// The state both ends share; tests hold it to end the session or to look at
// what happened. Outlives both handles.
class FakeExchange {
 public:
  FakeExchange(asio::any_io_executor executor, RequestHead request, bool end_stream,
               FakeStreamOptions options);
  FakeExchange(const FakeExchange&) = delete;
  FakeExchange& operator=(const FakeExchange&) = delete;

  // The session carrying the stream ends, closed with `reason` on the
  // opener's side (clause 9): the opener fails with `reason`, the answerer
  // with Error::session_closed.
  void end_session(std::error_code reason);

  // True once both bodies ended and the final head was sent.
  bool complete() const;
  // True once the stream was aborted (reset, dropped handle, session end).
  bool aborted() const { return aborted_; }
  // Why each side's calls fail; empty while the stream is not aborted.
  std::error_code opener_error() const { return opener_.error; }
  std::error_code answerer_error() const { return answerer_.error; }
  // Bytes each side wrote with write_body().
  std::uint64_t request_bytes() const { return request_.written; }
  std::uint64_t response_bytes() const { return response_.written; }
  // Whether each side ended its body (end_body or a head with end_stream).
  bool request_ended() const { return request_.ended; }
  bool response_ended() const { return response_.ended; }

 private:
  friend class FakeTunnelStream;
  friend class FakeIncomingStream;

  // One body direction: the writer's chunks until the reader takes them.
  struct Direction {
    std::deque<std::string> chunks;
    std::size_t unread = 0;
    std::uint64_t written = 0;
    bool ended = false;
    bool ended_by_head = false;  // no body at all: end_body() is a no-op
    HeaderList trailers;
  };
  // One end's handle-side state.
  struct Side {
    explicit Side(asio::any_io_executor executor) : event(std::move(executor)) {}
    std::error_code error;
    std::function<void()> abort_handler;
    std::shared_ptr<bool> alive;  // shared with a posted abort handler
    AsyncEvent event;             // wakes this side's reader and writer
  };

  void abort(Side& origin, std::error_code reason);
  void wake(Side& side);
  void check_abort(Side& side);
  Side& peer_of(Side& side) { return &side == &opener_ ? answerer_ : opener_; }

  // The shared half of the body calls: `in` is what `self` reads, `out` what it writes.
  Task<Result<std::optional<std::string>>> read_body(Side& self, Direction& in);
  Task<Result<void>> write_body(Side& self, Direction& out, std::string_view data);
  Result<void> end_body(Side& self, Direction& out, HeaderList trailers);
  bool body_ready(const Direction& in) const { return !in.chunks.empty() || in.ended || aborted_; }

  asio::any_io_executor executor_;
  FakeStreamOptions options_;
  RequestHead request_head_;
  bool request_has_body_;
  Direction request_;   // opener -> answerer
  Direction response_;  // answerer -> opener
  std::deque<ResponseHead> informational_;
  std::optional<ResponseHead> final_head_;
  bool responded_ = false;
  bool aborted_ = false;
  Side opener_;
  Side answerer_;
};

class FakeTunnelStream final : public TunnelStream {
 public:
  explicit FakeTunnelStream(std::shared_ptr<FakeExchange> exchange);
  ~FakeTunnelStream() override;
  FakeTunnelStream(const FakeTunnelStream&) = delete;
  FakeTunnelStream& operator=(const FakeTunnelStream&) = delete;

  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline) override;
  bool response_has_body() const override { return response_has_body_; }
  Task<Result<std::optional<std::string>>> read_body() override;
  const HeaderList& trailers() const override { return exchange_->response_.trailers; }
  bool body_ready() const override { return exchange_->body_ready(exchange_->response_); }
  Task<Result<void>> write_body(std::string_view data) override;
  Result<void> end_body(HeaderList trailers = {}) override;
  void reset(Error reason) override;
  void on_abort(std::function<void()> handler) override;

  FakeExchange& exchange() { return *exchange_; }

 private:
  std::shared_ptr<FakeExchange> exchange_;
  bool response_has_body_ = true;
  bool head_taken_ = false;
};

class FakeIncomingStream final : public IncomingStream {
 public:
  explicit FakeIncomingStream(std::shared_ptr<FakeExchange> exchange);
  ~FakeIncomingStream() override;
  FakeIncomingStream(const FakeIncomingStream&) = delete;
  FakeIncomingStream& operator=(const FakeIncomingStream&) = delete;

  const RequestHead& request() const override { return exchange_->request_head_; }
  bool has_body() const override { return exchange_->request_has_body_; }
  Result<void> respond(const ResponseHead& head, bool end_stream) override;
  Result<void> respond_informational(const ResponseHead& head) override;
  Task<Result<std::optional<std::string>>> read_body() override;
  const HeaderList& trailers() const override { return exchange_->request_.trailers; }
  bool body_ready() const override { return exchange_->body_ready(exchange_->request_); }
  Task<Result<void>> write_body(std::string_view data) override;
  Result<void> end_body(HeaderList trailers = {}) override;
  void reset(Error reason) override;
  void on_abort(std::function<void()> handler) override;

  FakeExchange& exchange() { return *exchange_; }

 private:
  std::shared_ptr<FakeExchange> exchange_;
};

struct FakeStreamPair {
  std::unique_ptr<FakeTunnelStream> opener;
  std::unique_ptr<FakeIncomingStream> answerer;
  std::shared_ptr<FakeExchange> exchange;
};

// One exchange opened with `request` (end_stream: the request has no body).
FakeStreamPair make_fake_stream_pair(asio::any_io_executor executor, RequestHead request,
                                     bool end_stream, FakeStreamOptions options = {});

}  // namespace dialback::test
