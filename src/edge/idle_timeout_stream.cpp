#include "edge/idle_timeout_stream.hpp"

#include <algorithm>

namespace dialback::edge {

IdleTimeoutStream::IdleTimeoutStream(std::unique_ptr<TunnelStream> inner,
                                     asio::any_io_executor executor,
                                     std::chrono::steady_clock::duration timeout,
                                     std::chrono::steady_clock::duration first_byte_timeout,
                                     std::function<void(bool response_started)> on_idle)
    : inner_(std::move(inner)),
      on_idle_(std::move(on_idle)),
      timeout_(timeout),
      first_byte_timeout_(first_byte_timeout),
      watchdog_(std::move(executor), timeout, [this] {
        inner_->reset(Error::timeout);
        if (on_idle_) on_idle_(response_started_);
      }) {}

Task<Result<ResponseHead>> IdleTimeoutStream::read_response(
    std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  const auto timeout = deadline - std::max(Clock::now(), last_request_progress_);
  auto head = co_await inner_->read_response(deadline);
  while (!head && head.error() == Error::timeout && !watchdog_.fired() &&
         Clock::now() < last_request_progress_ + timeout) {
    head = co_await inner_->read_response(last_request_progress_ + timeout);
  }
  if (head) {
    response_started_ = true;
    // A declared length is a promise that bytes follow now: a head and then
    // silence holds the client only for first_byte_timeout. Streams of
    // unknown length (server-sent events) keep the idle timeout.
    const auto length = find_header(head->headers, "content-length");
    awaiting_first_byte_ = head->status >= 200 && inner_->response_has_body() && length &&
                           *length != "0" && first_byte_timeout_ < timeout_;
    if (awaiting_first_byte_) {
      watchdog_.touch(first_byte_timeout_);
    } else {
      watchdog_.touch();
    }
  } else if (watchdog_.fired()) {
    // The transport may report our own reset in its words ("reset by peer").
    co_return fail(Error::timeout);
  }
  co_return head;
}

Task<Result<std::optional<std::string>>> IdleTimeoutStream::read_body() {
  auto chunk = co_await inner_->read_body();
  if (chunk && awaiting_first_byte_) {
    awaiting_first_byte_ = false;
    watchdog_.touch(timeout_);
  } else if (chunk) {
    watchdog_.touch();
  }
  if (!chunk && watchdog_.fired()) co_return fail(Error::timeout);
  co_return chunk;
}

Task<Result<void>> IdleTimeoutStream::write_body(std::string_view data) {
  auto written = co_await inner_->write_body(data);
  if (written) {
    watchdog_.touch();
    last_request_progress_ = std::chrono::steady_clock::now();
  }
  if (!written && watchdog_.fired()) co_return fail(Error::timeout);
  co_return written;
}

}  // namespace dialback::edge
