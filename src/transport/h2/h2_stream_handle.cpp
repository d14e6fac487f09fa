#include "transport/h2/h2_stream_handle.hpp"

#include <nghttp2/nghttp2.h>

#include "transport/h2/h2_engine.hpp"
#include "transport/h2/h2_headers.hpp"

namespace dialback::h2 {
namespace {

std::uint32_t h2_code_for(Error reason) {
  switch (reason) {
    case Error::cancelled:
    case Error::timeout: return NGHTTP2_CANCEL;  // given up on, not broken
    case Error::stream_refused:
    case Error::draining: return NGHTTP2_REFUSED_STREAM;
    case Error::protocol_error:
    case Error::upstream_protocol: return NGHTTP2_PROTOCOL_ERROR;
    default: return NGHTTP2_INTERNAL_ERROR;
  }
}

}  // namespace

template <class Interface>
H2StreamHandle<Interface>::H2StreamHandle(std::shared_ptr<H2StreamState> state,
                                          asio::any_io_executor executor)
    : state_(std::move(state)), executor_(executor), event_(std::move(executor)) {
  state_->waiter = this;
}

template <class Interface>
H2StreamHandle<Interface>::~H2StreamHandle() {
  if (alive_) *alive_ = false;
  state_->waiter = nullptr;
  const bool complete = state_->body_ended && state_->out_ended;
  if (!complete && state_->engine != nullptr) state_->engine->reset(*state_, NGHTTP2_CANCEL);
}

template <class Interface>
void H2StreamHandle<Interface>::wake() {
  event_.notify();
  check_abort();
}

template <class Interface>
void H2StreamHandle<Interface>::on_abort(std::function<void()> handler) {
  abort_handler_ = std::move(handler);
  if (!alive_) alive_ = std::make_shared<bool>(true);
  check_abort();
}

template <class Interface>
void H2StreamHandle<Interface>::check_abort() {
  if (!abort_handler_ || !state_->closed || !state_->error) return;
  asio::post(executor_, [handler = std::move(abort_handler_), alive = alive_] {
    if (*alive) handler();
  });
  abort_handler_ = nullptr;
}

template <class Interface>
std::error_code H2StreamHandle<Interface>::failure() const {
  return state_->error ? state_->error : make_error_code(Error::session_closed);
}

template <class Interface>
Task<Result<std::optional<std::string>>> H2StreamHandle<Interface>::read_body() {
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

template <class Interface>
Task<Result<void>> H2StreamHandle<Interface>::write_body(std::string_view data) {
  if (state_->engine == nullptr) co_return fail(failure());
  if (auto written = state_->engine->write_body(*state_, data); !written) co_return written;
  for (;;) {
    if (state_->engine == nullptr) co_return fail(failure());
    if (state_->out_queued() < state_->engine->settings().stream_send_buffer) co_return Result<void>{};
    co_await event_.wait();
  }
}

template <class Interface>
Result<void> H2StreamHandle<Interface>::end_body(HeaderList trailers) {
  if (state_->engine == nullptr) {
    if (state_->out_ended) return {};
    return fail(failure());
  }
  return state_->engine->end_body(*state_, std::move(trailers));
}

template <class Interface>
void H2StreamHandle<Interface>::reset(Error reason) {
  if (!state_->error) state_->error = reason;
  if (state_->engine != nullptr) state_->engine->reset(*state_, h2_code_for(reason));
}

template class H2StreamHandle<TunnelStream>;
template class H2StreamHandle<IncomingStream>;

Task<Result<ResponseHead>> H2TunnelStream::read_response(
    std::chrono::steady_clock::time_point deadline) {
  while (!state_->head_received && state_->informational.empty()) {
    if (state_->closed) co_return fail(failure());
    const bool woken = co_await event_.wait_until(deadline);
    if (!woken && std::chrono::steady_clock::now() >= deadline && !state_->head_received) {
      co_return fail(Error::timeout);
    }
  }
  if (!state_->informational.empty()) {
    HeaderList interim = std::move(state_->informational.front());
    state_->informational.pop_front();
    co_return parse_response(std::move(interim));
  }
  response_has_body_ = !(state_->body_ended && state_->body.empty() && state_->trailers.empty());
  co_return parse_response(std::move(state_->head));
}

Result<void> H2IncomingStream::respond_informational(const ResponseHead& head) {
  if (state_->engine == nullptr) return fail(failure());
  return state_->engine->respond_informational(*state_, head);
}

Result<void> H2IncomingStream::respond(const ResponseHead& head, bool end_stream) {
  if (state_->engine == nullptr) return fail(failure());
  return state_->engine->respond(*state_, head, end_stream);
}

}  // namespace dialback::h2
