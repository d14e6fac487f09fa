// Coroutine-facing handles on one stream of a protocol engine (HTTP/2's
// H2Engine, HTTP/3's QuicEngine): EngineTunnelStream (edge) and
// EngineIncomingStream (agent), sharing the body logic of
// EngineStreamHandle. A handle lives on the session's executor and may
// outlive the session: it then fails with Error::session_closed.
//
// `State` is the engine's per-stream state (H2StreamState, H3StreamState).
// It names its engine in `engine` (null once the stream left it) and holds
// the fields used below; the engine offers consume, write_body, end_body,
// reset, respond and respond_informational, and settings().stream_send_buffer.
// `stream_error_code(const State&, Error)` (found by argument-dependent
// lookup) maps a reason to the protocol's reset code.
//
// The member definitions are in engine_stream_handle_impl.hpp, included by
// the one .cpp file of each protocol that instantiates them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/async_event.hpp"
#include "transport/stream_waiter.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback {

template <class Interface, class State>
class EngineStreamHandle : public Interface, private StreamWaiter {
 public:
  EngineStreamHandle(std::shared_ptr<State> state, asio::any_io_executor executor);
  ~EngineStreamHandle() override;
  EngineStreamHandle(const EngineStreamHandle&) = delete;
  EngineStreamHandle& operator=(const EngineStreamHandle&) = delete;

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

  std::shared_ptr<State> state_;
  asio::any_io_executor executor_;
  AsyncEvent event_;
  std::function<void()> abort_handler_;
  std::shared_ptr<bool> alive_;  // shared with a posted abort handler; false once destroyed
};

template <class State>
class EngineTunnelStream final : public EngineStreamHandle<TunnelStream, State> {
 public:
  using EngineStreamHandle<TunnelStream, State>::EngineStreamHandle;
  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline) override;
  bool response_has_body() const override { return response_has_body_; }

 private:
  bool response_has_body_ = true;
};

template <class State>
class EngineIncomingStream final : public EngineStreamHandle<IncomingStream, State> {
 public:
  EngineIncomingStream(std::shared_ptr<State> state, asio::any_io_executor executor,
                       RequestHead request)
      : EngineStreamHandle<IncomingStream, State>(std::move(state), std::move(executor)),
        request_(std::move(request)),
        has_body_(!this->state_->body_ended) {}

  const RequestHead& request() const override { return request_; }
  // The stream ended before anything answered it (the peer reset it, or the
  // session closed).
  bool ended_early() const { return this->state_->closed && this->state_->error; }
  bool has_body() const override { return has_body_; }
  Result<void> respond(const ResponseHead& head, bool end_stream) override;
  Result<void> respond_informational(const ResponseHead& head) override;

 private:
  RequestHead request_;
  bool has_body_;
};

}  // namespace dialback
