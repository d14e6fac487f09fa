#include "routing/outlier_detector.hpp"

#include <gtest/gtest.h>

namespace dialback {
namespace {

using namespace std::chrono_literals;
using Clock = OutlierDetector::Clock;

const OutlierPolicy kPolicy{3, 1s, 5s};

// Fails `n` times at `now`; returns how many of them ejected.
int fail(OutlierDetector& detector, int n, Clock::time_point now,
         const OutlierPolicy& policy = kPolicy) {
  int ejections = 0;
  for (int i = 0; i < n; ++i) ejections += detector.record_failure(policy, now) ? 1 : 0;
  return ejections;
}

TEST(OutlierDetector, EjectsAfterConsecutiveFailuresOnly) {
  OutlierDetector detector;
  const auto t0 = Clock::now();
  EXPECT_EQ(fail(detector, 2, t0), 0);
  EXPECT_FALSE(detector.ejected(t0));
  EXPECT_EQ(fail(detector, 1, t0), 1);
  EXPECT_TRUE(detector.ejected(t0));
  EXPECT_TRUE(detector.ejected(t0 + 999ms));
  EXPECT_FALSE(detector.ejected(t0 + 1s));
}

TEST(OutlierDetector, ASuccessBreaksTheRun) {
  OutlierDetector detector;
  const auto t0 = Clock::now();
  for (int round = 0; round < 10; ++round) {
    EXPECT_EQ(fail(detector, 2, t0), 0);
    detector.record_success();
  }
  EXPECT_FALSE(detector.ejected(t0));
}

TEST(OutlierDetector, EjectionTimeDoublesWhileFailingAndIsCapped) {
  OutlierDetector detector;
  auto now = Clock::now();
  const std::chrono::milliseconds expected[] = {1s, 2s, 4s, 5s, 5s};
  for (auto length : expected) {
    ASSERT_EQ(fail(detector, 3, now), 1);
    EXPECT_TRUE(detector.ejected(now + length - 1ms));
    EXPECT_FALSE(detector.ejected(now + length));
    now += length;
  }
  EXPECT_EQ(detector.ejections(), 5u);
}

TEST(OutlierDetector, ASuccessResetsTheDoubling) {
  OutlierDetector detector;
  auto now = Clock::now();
  ASSERT_EQ(fail(detector, 3, now), 1);
  now += 1s;
  ASSERT_EQ(fail(detector, 3, now), 1);
  now += 2s;
  detector.record_success();
  EXPECT_EQ(detector.ejections(), 0u);
  ASSERT_EQ(fail(detector, 3, now), 1);
  EXPECT_FALSE(detector.ejected(now + 1s));
}

TEST(OutlierDetector, FailuresWhileEjectedDoNotExtendIt) {
  OutlierDetector detector;
  const auto t0 = Clock::now();
  ASSERT_EQ(fail(detector, 3, t0), 1);
  EXPECT_EQ(fail(detector, 30, t0 + 500ms), 0);
  EXPECT_FALSE(detector.ejected(t0 + 1s));
}

TEST(OutlierDetector, ZeroFailuresTurnsItOff) {
  OutlierDetector detector;
  const OutlierPolicy off{0, 1s, 5s};
  const auto t0 = Clock::now();
  EXPECT_EQ(fail(detector, 1000, t0, off), 0);
  EXPECT_FALSE(detector.ejected(t0));
}

TEST(OutlierDetector, HugeEjectionCountsDoNotOverflow) {
  OutlierDetector detector;
  const OutlierPolicy policy{1, 1s, 300s};
  auto now = Clock::now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(detector.record_failure(policy, now));
    EXPECT_FALSE(detector.ejected(now + 300s));
    now += 300s;
  }
}

}  // namespace
}  // namespace dialback
