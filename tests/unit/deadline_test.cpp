// Deadline: a lazily re-armed timer. Runs a real io_context; every test is
// bounded by run_for().
#include <gtest/gtest.h>

#include <chrono>

#include "core/deadline.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct DeadlineTest : testing::Test {
  asio::io_context io;
  int fired = 0;
  Clock::time_point fired_at;
  auto on_expiry() {
    return [this] {
      ++fired;
      fired_at = Clock::now();
    };
  }
  // Runs the loop until `done` or `limit`.
  template <class Done>
  void run_until(Done done, Clock::duration limit = 5s) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) run_for(5ms);
  }
  // run_for() after the loop ran out of work (it then stops until restarted).
  void run_for(Clock::duration duration) {
    io.restart();
    io.run_for(duration);
  }
};

TEST_F(DeadlineTest, ExpiresOnceAtTheDeadline) {
  Deadline deadline(io.get_executor(), on_expiry());
  const auto start = Clock::now();
  deadline.expire_after(50ms);
  EXPECT_FALSE(deadline.expired());
  run_until([&] { return fired > 0; });
  ASSERT_EQ(fired, 1);
  EXPECT_TRUE(deadline.expired());
  EXPECT_GE(fired_at - start, 50ms);
  run_for(100ms);
  EXPECT_EQ(fired, 1);
}

TEST_F(DeadlineTest, MovingTheDeadlineLaterPostponesExpiry) {
  Deadline deadline(io.get_executor(), on_expiry());
  const auto start = Clock::now();
  deadline.expire_after(40ms);
  deadline.expire_after(150ms);  // the timer still waits for 40 ms, then re-arms
  run_until([&] { return fired > 0; });
  ASSERT_EQ(fired, 1);
  EXPECT_GE(fired_at - start, 150ms);
}

TEST_F(DeadlineTest, MovingTheDeadlineEarlierTakesEffect) {
  Deadline deadline(io.get_executor(), on_expiry());
  const auto start = Clock::now();
  deadline.expire_after(10s);
  deadline.expire_after(30ms);
  run_until([&] { return fired > 0; }, 2s);
  ASSERT_EQ(fired, 1);
  EXPECT_LT(fired_at - start, 2s);
}

TEST_F(DeadlineTest, ClearedDeadlineNeverExpiresAndCanBeSetAgain) {
  Deadline deadline(io.get_executor(), on_expiry());
  deadline.expire_after(20ms);
  deadline.clear();
  run_for(120ms);
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(deadline.expired());
  deadline.expire_after(20ms);
  run_until([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
}

TEST_F(DeadlineTest, SettingAgainAfterExpiryResetsExpired) {
  Deadline deadline(io.get_executor(), on_expiry());
  deadline.expire_after(10ms);
  run_until([&] { return fired > 0; });
  ASSERT_TRUE(deadline.expired());
  deadline.expire_after(10s);
  EXPECT_FALSE(deadline.expired());
}

TEST_F(DeadlineTest, DestroyedDeadlineNeverCallsBack) {
  {
    Deadline deadline(io.get_executor(), on_expiry());
    deadline.expire_after(10ms);
  }
  run_for(80ms);
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace dialback
