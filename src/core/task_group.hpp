// TaskGroup: the child coroutines of one owner, joined like Beast's
// task_group. Every child is counted until it ends, however it ends; an
// exception escaping a child is logged with the owner's name, never lost;
// join() waits until no child runs, and join(deadline) gives up at a
// deadline so that a parent never waits forever.
//
// The owner joins before it is destroyed: children and their on_done
// callbacks usually use it. A group whose children need nothing of it
// (they hold what they use) may be destroyed first; their completions find
// the shared count still alive. All calls happen on the group's executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/logging.hpp"

namespace dialback {

class TaskGroup {
 public:
  using Clock = std::chrono::steady_clock;

  // `owner` names the group in the log line of an escaped exception;
  // without `logger` that line goes to spdlog's default logger.
  TaskGroup(asio::any_io_executor executor, Logger logger, std::string owner);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on the executor; `on_done` runs after it ended, on the
  // executor, before a join() waiting for it returns. A result is discarded.
  template <class T>
  void spawn(Task<T> task, std::function<void()> on_done = {});

  // Children running now.
  std::size_t running() const { return state_->running; }

  // Returns once no child runs (at once when none does).
  Task<void> join();
  // Same, giving up at `deadline`: false when children still run then.
  Task<bool> join(Clock::time_point deadline);

 private:
  struct State {
    State(asio::any_io_executor executor, Logger logger, std::string owner)
        : changed(std::move(executor)), logger(std::move(logger)), owner(std::move(owner)) {}
    std::size_t running = 0;
    AsyncEvent changed;
    Logger logger;
    std::string owner;
  };
  // Counts one child down, logs its exception, runs on_done.
  static void finished(State& state, std::exception_ptr error,
                       const std::function<void()>& on_done);

  asio::any_io_executor executor_;
  std::shared_ptr<State> state_;
};

template <class T>
void TaskGroup::spawn(Task<T> task, std::function<void()> on_done) {
  ++state_->running;
  asio::co_spawn(executor_, std::move(task),
                 [state = state_, on_done = std::move(on_done)](
                     std::exception_ptr error, auto&&...) { finished(*state, error, on_done); });
}

}  // namespace dialback
