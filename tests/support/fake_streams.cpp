#include "fake_streams.hpp"

namespace dialback::test {

// ---- FakeExchange -------------------------------------------------------

FakeExchange::FakeExchange(asio::any_io_executor executor, RequestHead request, bool end_stream,
                           FakeStreamOptions options)
    : executor_(executor),
      options_(options),
      request_head_(std::move(request)),
      request_has_body_(!end_stream),
      opener_(executor),
      answerer_(executor) {
  request_.ended = end_stream;
  request_.ended_by_head = end_stream;
}

bool FakeExchange::complete() const { return request_.ended && response_.ended; }

void FakeExchange::abort(Side& origin, std::error_code reason) {
  if (aborted_ || complete()) return;  // clause 7: nothing to abort once complete
  aborted_ = true;
  if (!origin.error) origin.error = reason;
  Side& peer = peer_of(origin);
  if (!peer.error) {
    const bool refused = reason == Error::stream_refused || reason == Error::draining;
    peer.error = make_error_code(refused ? Error::stream_refused : Error::stream_reset);
  }
  wake(origin);
  wake(peer);
}

void FakeExchange::end_session(std::error_code reason) {
  if (aborted_ || complete()) return;
  aborted_ = true;
  if (!opener_.error) opener_.error = reason;
  if (!answerer_.error) answerer_.error = make_error_code(Error::session_closed);
  wake(opener_);
  wake(answerer_);
}

void FakeExchange::wake(Side& side) {
  side.event.notify();
  check_abort(side);
}

void FakeExchange::check_abort(Side& side) {
  if (!side.abort_handler || !aborted_ || !side.error) return;
  // Clause 10: posted, never run inside the call that ended the stream.
  asio::post(executor_, [handler = std::move(side.abort_handler), alive = side.alive] {
    if (*alive) handler();
  });
  side.abort_handler = nullptr;
}

Task<Result<std::optional<std::string>>> FakeExchange::read_body(Side& self, Direction& in) {
  for (;;) {
    if (!in.chunks.empty()) {
      std::string chunk = std::move(in.chunks.front());
      in.chunks.pop_front();
      in.unread -= chunk.size();
      wake(peer_of(self));  // its writer may have room again
      co_return std::optional<std::string>(std::move(chunk));
    }
    if (in.ended) co_return std::optional<std::string>();
    if (aborted_) co_return fail(self.error);
    co_await self.event.wait();
  }
}

Task<Result<void>> FakeExchange::write_body(Side& self, Direction& out, std::string_view data) {
  if (aborted_) co_return fail(self.error);
  if (out.ended) co_return fail(Error::protocol_error);
  if (!data.empty()) {  // an empty write queues nothing, as in HTTP/2 (no empty DATA)
    out.chunks.emplace_back(data);
    out.unread += data.size();
    out.written += data.size();
    wake(peer_of(self));
  }
  for (;;) {
    if (aborted_) co_return fail(self.error);
    if (out.unread < options_.write_buffer) co_return Result<void>{};
    co_await self.event.wait();
  }
}

Result<void> FakeExchange::end_body(Side& self, Direction& out, HeaderList trailers) {
  if (aborted_) return out.ended ? Result<void>{} : fail(self.error);
  if (out.ended_by_head) return {};
  if (out.ended) return fail(Error::protocol_error);
  out.ended = true;
  out.trailers = std::move(trailers);
  wake(peer_of(self));
  return {};
}

// ---- FakeTunnelStream ---------------------------------------------------

FakeTunnelStream::FakeTunnelStream(std::shared_ptr<FakeExchange> exchange)
    : exchange_(std::move(exchange)) {}

FakeTunnelStream::~FakeTunnelStream() {
  auto& side = exchange_->opener_;
  if (side.alive) *side.alive = false;
  side.abort_handler = nullptr;
  exchange_->abort(side, make_error_code(Error::cancelled));  // clause 8
}

Task<Result<ResponseHead>> FakeTunnelStream::read_response(
    std::chrono::steady_clock::time_point deadline) {
  auto& x = *exchange_;
  for (;;) {
    if (!x.informational_.empty()) {
      ResponseHead head = std::move(x.informational_.front());
      x.informational_.pop_front();
      co_return head;
    }
    if (x.final_head_ && !head_taken_) {
      head_taken_ = true;
      response_has_body_ = !x.response_.ended_by_head;
      co_return *x.final_head_;
    }
    if (head_taken_) co_return fail(Error::protocol_error);  // not specified
    if (x.aborted_) co_return fail(x.opener_.error);
    if (std::chrono::steady_clock::now() >= deadline) co_return fail(Error::timeout);
    co_await x.opener_.event.wait_until(deadline);
  }
}

Task<Result<std::optional<std::string>>> FakeTunnelStream::read_body() {
  return exchange_->read_body(exchange_->opener_, exchange_->response_);
}

Task<Result<void>> FakeTunnelStream::write_body(std::string_view data) {
  return exchange_->write_body(exchange_->opener_, exchange_->request_, data);
}

Result<void> FakeTunnelStream::end_body(HeaderList trailers) {
  return exchange_->end_body(exchange_->opener_, exchange_->request_, std::move(trailers));
}

void FakeTunnelStream::reset(Error reason) {
  exchange_->abort(exchange_->opener_, make_error_code(reason));
}

void FakeTunnelStream::on_abort(std::function<void()> handler) {
  auto& side = exchange_->opener_;
  side.abort_handler = std::move(handler);
  if (!side.alive) side.alive = std::make_shared<bool>(true);
  exchange_->check_abort(side);
}

// ---- FakeIncomingStream -------------------------------------------------

FakeIncomingStream::FakeIncomingStream(std::shared_ptr<FakeExchange> exchange)
    : exchange_(std::move(exchange)) {}

FakeIncomingStream::~FakeIncomingStream() {
  auto& side = exchange_->answerer_;
  if (side.alive) *side.alive = false;
  side.abort_handler = nullptr;
  exchange_->abort(side, make_error_code(Error::cancelled));  // clause 8
}

Result<void> FakeIncomingStream::respond(const ResponseHead& head, bool end_stream) {
  auto& x = *exchange_;
  if (x.aborted_) return fail(x.answerer_.error);
  if (x.responded_) return fail(Error::protocol_error);  // not specified
  x.final_head_ = head;
  x.responded_ = true;
  if (end_stream) {
    x.response_.ended = true;
    x.response_.ended_by_head = true;
  }
  x.wake(x.opener_);
  return {};
}

Result<void> FakeIncomingStream::respond_informational(const ResponseHead& head) {
  auto& x = *exchange_;
  if (x.aborted_) return fail(x.answerer_.error);
  if (head.status < 100 || head.status > 199 || head.status == 101) {
    return fail(Error::protocol_error);
  }
  if (x.responded_) return fail(Error::protocol_error);  // not specified
  x.informational_.push_back(head);
  x.wake(x.opener_);
  return {};
}

Task<Result<std::optional<std::string>>> FakeIncomingStream::read_body() {
  return exchange_->read_body(exchange_->answerer_, exchange_->request_);
}

Task<Result<void>> FakeIncomingStream::write_body(std::string_view data) {
  auto& x = *exchange_;
  if (!x.aborted_ && !x.responded_) co_return fail(Error::protocol_error);  // clause 2
  auto written = co_await x.write_body(x.answerer_, x.response_, data);
  co_return written;
}

Result<void> FakeIncomingStream::end_body(HeaderList trailers) {
  auto& x = *exchange_;
  if (!x.aborted_ && !x.responded_) return fail(Error::protocol_error);  // not specified
  return x.end_body(x.answerer_, x.response_, std::move(trailers));
}

void FakeIncomingStream::reset(Error reason) {
  exchange_->abort(exchange_->answerer_, make_error_code(reason));
}

void FakeIncomingStream::on_abort(std::function<void()> handler) {
  auto& side = exchange_->answerer_;
  side.abort_handler = std::move(handler);
  if (!side.alive) side.alive = std::make_shared<bool>(true);
  exchange_->check_abort(side);
}

FakeStreamPair make_fake_stream_pair(asio::any_io_executor executor, RequestHead request,
                                     bool end_stream, FakeStreamOptions options) {
  auto exchange =
      std::make_shared<FakeExchange>(std::move(executor), std::move(request), end_stream, options);
  return {std::make_unique<FakeTunnelStream>(exchange),
          std::make_unique<FakeIncomingStream>(exchange), exchange};
}

}  // namespace dialback::test
