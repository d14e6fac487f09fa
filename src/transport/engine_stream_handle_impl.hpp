// Member definitions of transport/engine_stream_handle.hpp. Include only
// from the .cpp that instantiates the handles for one engine (it also
// includes that engine's header).
#pragma once

#include "transport/engine_stream_handle.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback {

template <class Interface, class State>
EngineStreamHandle<Interface, State>::EngineStreamHandle(std::shared_ptr<State> state,
                                                         asio::any_io_executor executor)
    : state_(std::move(state)), executor_(executor), event_(std::move(executor)) {
  state_->waiter = this;
}

template <class Interface, class State>
EngineStreamHandle<Interface, State>::~EngineStreamHandle() {
  if (alive_) *alive_ = false;
  state_->waiter = nullptr;
  const bool complete = state_->body_ended && state_->out_ended;
  if (!complete && state_->engine != nullptr) {
    state_->engine->reset(*state_, stream_error_code(*state_, Error::cancelled));
  }
}

template <class Interface, class State>
void EngineStreamHandle<Interface, State>::wake() {
  event_.notify();
  check_abort();
}

template <class Interface, class State>
void EngineStreamHandle<Interface, State>::on_abort(std::function<void()> handler) {
  abort_handler_ = std::move(handler);
  if (!alive_) alive_ = std::make_shared<bool>(true);
  check_abort();
}

template <class Interface, class State>
void EngineStreamHandle<Interface, State>::check_abort() {
  if (!abort_handler_ || !state_->closed || !state_->error) return;
  asio::post(executor_, [handler = std::move(abort_handler_), alive = alive_] {
    if (*alive) handler();
  });
  abort_handler_ = nullptr;
}

template <class Interface, class State>
std::error_code EngineStreamHandle<Interface, State>::failure() const {
  return state_->error ? state_->error : make_error_code(Error::session_closed);
}

template <class Interface, class State>
Task<Result<std::optional<std::string>>> EngineStreamHandle<Interface, State>::read_body() {
  for (;;) {
    if (!state_->body.empty()) {
      std::string chunk = std::move(state_->body.front());
      state_->body.pop_front();
      if (state_->engine != nullptr) {
        state_->engine->consume(*state_, chunk.size());
      } else {
        state_->body_queued -= std::min(chunk.size(), state_->body_queued);
      }
      co_return std::optional<std::string>(std::move(chunk));
    }
    if (state_->body_ended) co_return std::optional<std::string>();
    if (state_->closed) co_return fail(failure());
    co_await event_.wait();
  }
}

template <class Interface, class State>
Task<Result<void>> EngineStreamHandle<Interface, State>::write_body(std::string_view data) {
  if (state_->engine == nullptr) co_return fail(failure());
  if (auto written = state_->engine->write_body(*state_, data); !written) co_return written;
  for (;;) {
    if (state_->engine == nullptr) co_return fail(failure());
    if (state_->out_queued() < state_->engine->settings().stream_send_buffer) {
      co_return Result<void>{};
    }
    co_await event_.wait();
  }
}

template <class Interface, class State>
Result<void> EngineStreamHandle<Interface, State>::end_body(HeaderList trailers) {
  if (state_->engine == nullptr) {
    if (state_->out_ended) return {};
    return fail(failure());
  }
  return state_->engine->end_body(*state_, std::move(trailers));
}

template <class Interface, class State>
void EngineStreamHandle<Interface, State>::reset(Error reason) {
  if (!state_->error) state_->error = reason;
  if (state_->engine != nullptr) state_->engine->reset(*state_, stream_error_code(*state_, reason));
}

template <class State>
Task<Result<ResponseHead>> EngineTunnelStream<State>::read_response(
    std::chrono::steady_clock::time_point deadline) {
  auto& state = *this->state_;
  while (!state.head_received && state.informational.empty()) {
    if (state.closed) co_return fail(this->failure());
    const bool woken = co_await this->event_.wait_until(deadline);
    if (!woken && std::chrono::steady_clock::now() >= deadline && !state.head_received) {
      co_return fail(Error::timeout);
    }
  }
  if (!state.informational.empty()) {
    HeaderList interim = std::move(state.informational.front());
    state.informational.pop_front();
    co_return parse_response_fields(std::move(interim));
  }
  response_has_body_ = !(state.body_ended && state.body.empty() && state.trailers.empty());
  co_return parse_response_fields(std::move(state.head));
}

template <class State>
Result<void> EngineIncomingStream<State>::respond_informational(const ResponseHead& head) {
  if (this->state_->engine == nullptr) return fail(this->failure());
  return this->state_->engine->respond_informational(*this->state_, head);
}

template <class State>
Result<void> EngineIncomingStream<State>::respond(const ResponseHead& head, bool end_stream) {
  if (this->state_->engine == nullptr) return fail(this->failure());
  return this->state_->engine->respond(*this->state_, head, end_stream);
}

}  // namespace dialback
