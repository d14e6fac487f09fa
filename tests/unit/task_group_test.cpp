// TaskGroup: children counted until they end however they end, escaped
// exceptions logged, joins that return (or give up at a deadline). Runs a
// real io_context; every test is bounded.
#include "core/task_group.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace dialback {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct TaskGroupTest : testing::Test {
  asio::io_context io;
  std::ostringstream log_text;
  Logger logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  TaskGroup group{io.get_executor(), logger, "test group"};

  // Runs the loop until `done` or 5 s; returns done().
  template <class Done>
  bool run_until(Done done) {
    const auto end = Clock::now() + 5s;
    while (!done() && Clock::now() < end) io.run_for(5ms);
    return done();
  }
};

Task<void> wait_for(std::chrono::milliseconds delay, int* finished) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
  ++*finished;
}

Task<void> throw_after_a_turn() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("child failed");
}

Task<int> answer() { co_return 42; }

// Free functions, not lambdas: a coroutine lambda's captures die with the
// closure, before the coroutine ends.
Task<void> join_into(TaskGroup* group, bool* joined) {
  co_await group->join();
  *joined = true;
}

Task<void> join_until_into(TaskGroup* group, Clock::time_point deadline,
                           std::optional<bool>* joined) {
  *joined = co_await group->join(deadline);
}

TEST_F(TaskGroupTest, JoinWaitsForEveryChild) {
  int finished = 0;
  group.spawn(wait_for(30ms, &finished));
  group.spawn(wait_for(60ms, &finished));
  EXPECT_EQ(group.running(), 2u);
  bool joined = false;
  asio::co_spawn(io, join_into(&group, &joined), asio::detached);
  ASSERT_TRUE(run_until([&] { return joined; }));
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(group.running(), 0u);
}

TEST_F(TaskGroupTest, AThrowingChildIsCountedAndLogged) {
  int done_calls = 0;
  group.spawn(throw_after_a_turn(), [&] { ++done_calls; });
  bool joined = false;
  asio::co_spawn(io, join_into(&group, &joined), asio::detached);
  ASSERT_TRUE(run_until([&] { return joined; }));
  EXPECT_EQ(done_calls, 1);
  logger->flush();
  EXPECT_NE(log_text.str().find("test group: a task ended with an exception: child failed"),
            std::string::npos)
      << log_text.str();
}

TEST_F(TaskGroupTest, AChildWithAResultIsCountedToo) {
  int done_calls = 0;
  group.spawn(answer(), [&] { ++done_calls; });
  ASSERT_TRUE(run_until([&] { return group.running() == 0; }));
  EXPECT_EQ(done_calls, 1);
}

TEST_F(TaskGroupTest, JoinWithADeadlineGivesUp) {
  int finished = 0;
  group.spawn(wait_for(2s, &finished));
  std::optional<bool> joined;
  const auto started = Clock::now();
  asio::co_spawn(io, join_until_into(&group, Clock::now() + 50ms, &joined), asio::detached);
  ASSERT_TRUE(run_until([&] { return joined.has_value(); }));
  EXPECT_FALSE(*joined);
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_EQ(finished, 0);
  EXPECT_EQ(group.running(), 1u);
}

TEST_F(TaskGroupTest, JoinOfAnEmptyGroupReturnsAtOnce) {
  std::optional<bool> joined;
  asio::co_spawn(io, join_until_into(&group, Clock::now() + 10s, &joined), asio::detached);
  ASSERT_TRUE(run_until([&] { return joined.has_value(); }));
  EXPECT_TRUE(*joined);
}

TEST_F(TaskGroupTest, AGroupDestroyedBeforeItsChildrenEndStaysSafe) {
  int finished = 0;
  {
    TaskGroup short_lived(io.get_executor(), logger, "short-lived");
    short_lived.spawn(wait_for(20ms, &finished));
  }
  ASSERT_TRUE(run_until([&] { return finished == 1; }));
}

}  // namespace
}  // namespace dialback
