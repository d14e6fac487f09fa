// Helpers for tests that drive coroutines on an io_context: run one task to
// completion under a deadline, poll a condition with a deadline, and assert
// inside a coroutine (gtest's ASSERT_* return, a coroutine must co_return).
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/asio.hpp"

namespace dialback::test {

using Clock = std::chrono::steady_clock;

// Runs `task` on `io` until it completes; a failure when `limit` passes
// first (the io_context is then stopped and the task abandoned) or when the
// task threw.
inline ::testing::AssertionResult run_task(asio::io_context& io, Task<void> task,
                                           Clock::duration limit = std::chrono::seconds(10)) {
  struct State {
    bool done = false;
    std::exception_ptr error;
  };
  auto state = std::make_shared<State>();
  asio::co_spawn(io, std::move(task), [state](std::exception_ptr error) {
    state->done = true;
    state->error = error;
  });
  const auto end = Clock::now() + limit;
  while (!state->done && Clock::now() < end) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  if (!state->done) {
    io.stop();
    return ::testing::AssertionFailure() << "the test task did not finish within its deadline";
  }
  if (state->error) {
    try {
      std::rethrow_exception(state->error);
    } catch (const std::exception& e) {
      return ::testing::AssertionFailure() << "the test task threw: " << e.what();
    }
  }
  return ::testing::AssertionSuccess();
}

// Waits for `duration` on the current executor. Only for checks that
// something does NOT happen; to wait for something, use eventually().
inline Task<void> pause(Clock::duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  error_code ignored;
  co_await timer.async_wait(nothrow(ignored));
}

// Polls `condition` every millisecond: true once it holds, false at `deadline`.
inline Task<bool> eventually(std::function<bool()> condition, Clock::time_point deadline) {
  for (;;) {
    if (condition()) co_return true;
    if (Clock::now() >= deadline) co_return false;
    co_await pause(std::chrono::milliseconds(1));
  }
}

inline Clock::time_point in(Clock::duration duration) { return Clock::now() + duration; }

}  // namespace dialback::test

// ASSERT_* for coroutines: records the failure and leaves the coroutine.
#define CO_ASSERT_TRUE(condition)                               \
  do {                                                          \
    if (!(condition)) {                                         \
      ADD_FAILURE() << "CO_ASSERT_TRUE(" #condition ") failed"; \
      co_return;                                                \
    }                                                           \
  } while (false)
