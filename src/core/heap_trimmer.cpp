#include "core/heap_trimmer.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dialback {

struct HeapTrimmer::State {
  State(asio::any_io_executor executor, std::chrono::milliseconds d)
      : timer(std::move(executor)), delay(d) {}
  asio::steady_timer timer;
  std::chrono::milliseconds delay;
  bool pending = false;
};

HeapTrimmer::HeapTrimmer(asio::any_io_executor executor, std::chrono::milliseconds delay)
    : state_(std::make_shared<State>(std::move(executor), delay)) {}

HeapTrimmer::~HeapTrimmer() { state_->timer.cancel(); }

void HeapTrimmer::released() {
  if (state_->pending) return;
  state_->pending = true;
  state_->timer.expires_after(state_->delay);
  state_->timer.async_wait([state = state_](const error_code& ec) {
    state->pending = false;
    if (ec) return;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
  });
}

}  // namespace dialback
