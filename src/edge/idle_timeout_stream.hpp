// IdleTimeoutStream: a TunnelStream decorator that bounds how long a
// forwarded exchange may go without progress (public.stream_idle_timeout).
// Every completed step counts as progress: the response head, a response
// body chunk read from the tunnel, a request body chunk the tunnel accepted.
//
// When no step completes for `timeout`, it resets the inner stream with
// Error::timeout (pending and later calls then fail with Error::timeout,
// whatever the transport reports, so the edge answers 504 when the response
// has not started) and calls `on_idle(response_started)`, which closes
// the public connection when the response was already under way. Pending
// calls end when the transport processes the reset. Owned by the public
// connection's forwarder, on its executor; `on_idle` never runs after the
// decorator is destroyed.
#pragma once

#include <functional>
#include <memory>

#include "core/watchdog.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::edge {

class IdleTimeoutStream final : public TunnelStream {
 public:
  // `first_byte_timeout` replaces `timeout` between a response head that
  // declares a body length and the first body byte (public.first_byte_timeout).
  IdleTimeoutStream(std::unique_ptr<TunnelStream> inner, asio::any_io_executor executor,
                    std::chrono::steady_clock::duration timeout,
                    std::chrono::steady_clock::duration first_byte_timeout,
                    std::function<void(bool response_started)> on_idle);

  // The deadline moves with request body progress: the response timeout
  // counts from the last body bytes the tunnel accepted (or the body's end),
  // so an upload that keeps moving is never cut off by it.
  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline) override;
  bool response_has_body() const override { return inner_->response_has_body(); }
  Task<Result<std::optional<std::string>>> read_body() override;
  const HeaderList& trailers() const override { return inner_->trailers(); }
  bool body_ready() const override { return inner_->body_ready(); }
  Task<Result<void>> write_body(std::string_view data) override;
  Result<void> end_body(HeaderList trailers = {}) override {
    last_request_progress_ = std::chrono::steady_clock::now();
    return inner_->end_body(std::move(trailers));
  }
  void reset(Error reason) override { inner_->reset(reason); }
  void on_abort(std::function<void()> handler) override { inner_->on_abort(std::move(handler)); }

  // True once the stream was reset for idleness.
  bool timed_out() const { return watchdog_.fired(); }

 private:
  std::unique_ptr<TunnelStream> inner_;
  std::function<void(bool)> on_idle_;
  bool response_started_ = false;
  bool awaiting_first_byte_ = false;  // under first_byte_timeout_
  std::chrono::steady_clock::duration timeout_;
  std::chrono::steady_clock::duration first_byte_timeout_;
  std::chrono::steady_clock::time_point last_request_progress_ = std::chrono::steady_clock::now();
  Watchdog watchdog_;  // last: disarmed first on destruction
};

}  // namespace dialback::edge
