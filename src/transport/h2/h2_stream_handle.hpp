// Coroutine-facing handles on one HTTP/2 stream: H2TunnelStream (edge,
// client role) and H2IncomingStream (agent, server role). Both share the
// body logic of H2StreamHandle. A handle lives on the session's executor and
// may outlive the session: it then fails with Error::session_closed.
#pragma once

#include <memory>

#include "core/async_event.hpp"
#include "transport/h2/h2_stream_state.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::h2 {

template <class Interface>
class H2StreamHandle : public Interface, private StreamWaiter {
 public:
  H2StreamHandle(std::shared_ptr<H2StreamState> state, asio::any_io_executor executor);
  ~H2StreamHandle() override;
  H2StreamHandle(const H2StreamHandle&) = delete;
  H2StreamHandle& operator=(const H2StreamHandle&) = delete;

  Task<Result<std::optional<std::string>>> read_body() override;
  const HeaderList& trailers() const override { return state_->trailers; }
  bool body_ready() const override {
    return !state_->body.empty() || state_->body_ended || state_->closed;
  }
  Task<Result<void>> write_body(std::string_view data) override;
  Result<void> end_body(HeaderList trailers) override;
  void reset(Error reason) override;
  void on_abort(std::function<void()> handler) override;

 protected:
  void wake() override;
  std::error_code failure() const;
  // Posts the abort handler once the stream ended early.
  void check_abort();

  std::shared_ptr<H2StreamState> state_;
  asio::any_io_executor executor_;
  AsyncEvent event_;
  std::function<void()> abort_handler_;
  std::shared_ptr<bool> alive_;  // shared with a posted abort handler; false once destroyed
};

class H2TunnelStream final : public H2StreamHandle<TunnelStream> {
 public:
  using H2StreamHandle::H2StreamHandle;
  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline) override;
  bool response_has_body() const override { return response_has_body_; }

 private:
  bool response_has_body_ = true;
};

class H2IncomingStream final : public H2StreamHandle<IncomingStream> {
 public:
  H2IncomingStream(std::shared_ptr<H2StreamState> state, asio::any_io_executor executor,
                   RequestHead request)
      : H2StreamHandle(std::move(state), std::move(executor)),
        request_(std::move(request)),
        has_body_(!state_->body_ended) {}

  const RequestHead& request() const override { return request_; }
  // The stream ended before anything answered it (the peer reset it, or the
  // session closed).
  bool ended_early() const { return state_->closed && state_->error; }
  bool has_body() const override { return has_body_; }
  Result<void> respond(const ResponseHead& head, bool end_stream) override;
  Result<void> respond_informational(const ResponseHead& head) override;

 private:
  RequestHead request_;
  bool has_body_;
};

}  // namespace dialback::h2
