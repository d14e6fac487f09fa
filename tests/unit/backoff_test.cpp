#include "agent/backoff.hpp"

#include <gtest/gtest.h>

namespace dialback::agent {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromHalfASecondToTheCapWithJitterInTheUpperHalf) {
  double jitter = 0.0;
  Backoff backoff(milliseconds(500), milliseconds(30'000), [&] { return jitter; });
  // Lowest jitter: half of each step.
  const long expected_low[] = {250, 500, 1000, 2000, 4000, 8000, 15000, 15000};
  for (long ms : expected_low) EXPECT_EQ(backoff.next(), milliseconds(ms));
  backoff.reset();
  jitter = 0.999999;
  const long expected_high[] = {499, 999, 1999, 3999, 7999, 15999, 29999, 29999};
  for (long ms : expected_high) EXPECT_EQ(backoff.next(), milliseconds(ms));
}

TEST(Backoff, ResetStartsOverAndCountsAttempts) {
  Backoff backoff(milliseconds(500), milliseconds(30'000), [] { return 0.5; });
  backoff.next();
  backoff.next();
  EXPECT_EQ(backoff.attempts(), 2);
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(backoff.next(), milliseconds(375));
}

TEST(Backoff, NeverOverflowsAfterManyAttempts) {
  Backoff backoff(milliseconds(500), milliseconds(30'000), [] { return 1.0; });
  for (int i = 0; i < 200; ++i) {
    const auto delay = backoff.next();
    ASSERT_GE(delay, milliseconds(250));
    ASSERT_LE(delay, milliseconds(30'000));
  }
}

}  // namespace
}  // namespace dialback::agent
