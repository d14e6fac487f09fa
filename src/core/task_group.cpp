#include "core/task_group.hpp"

namespace dialback {

TaskGroup::TaskGroup(asio::any_io_executor executor, Logger logger, std::string owner)
    : executor_(executor),
      state_(std::make_shared<State>(std::move(executor), std::move(logger), std::move(owner))) {}

void TaskGroup::finished(State& state, std::exception_ptr error,
                         const std::function<void()>& on_done) {
  if (error) {
    // Without a logger of its owner, spdlog's default one (stderr).
    spdlog::logger& log = state.logger ? *state.logger : *spdlog::default_logger_raw();
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log.error("{}: a task ended with an exception: {}", state.owner, e.what());
    } catch (...) {
      log.error("{}: a task ended with an unknown exception", state.owner);
    }
  }
  --state.running;
  if (on_done) on_done();
  state.changed.notify();
}

Task<void> TaskGroup::join() {
  while (state_->running > 0) co_await state_->changed.wait();
}

Task<bool> TaskGroup::join(Clock::time_point deadline) {
  while (state_->running > 0) {
    // Not inside the condition: g++ 12 miscompiles co_await under `&&`.
    const bool woken = co_await state_->changed.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) break;
  }
  co_return state_->running == 0;
}

}  // namespace dialback
