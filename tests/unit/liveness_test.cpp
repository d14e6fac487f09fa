// Liveness: PING after read silence, give up without an ACK. Pure: every
// time point is made up by the test.
#include <chrono>

#include <gtest/gtest.h>

#include "transport/h2/liveness.hpp"

namespace dialback::h2 {
namespace {

using namespace std::chrono_literals;
using Action = Liveness::Action;
using TimePoint = Liveness::Clock::time_point;

// An arbitrary fixed origin; nothing depends on the real clock.
const TimePoint t0 = TimePoint{} + 1000h;

LivenessSettings settings() {
  LivenessSettings s;
  s.ping_interval = 15s;
  s.ping_timeout = 10s;
  return s;
}

TEST(Liveness, NothingToDoBeforeTheInterval) {
  Liveness liveness(settings(), t0);
  EXPECT_EQ(liveness.poll(t0), Action::none);
  EXPECT_EQ(liveness.poll(t0 + 14999ms), Action::none);
  EXPECT_EQ(liveness.next_deadline(), t0 + 15s);
}

TEST(Liveness, PingsAfterAnIntervalOfSilenceOnce) {
  Liveness liveness(settings(), t0);
  EXPECT_EQ(liveness.poll(t0 + 15s), Action::send_ping);
  // The PING is outstanding: no second one.
  EXPECT_EQ(liveness.poll(t0 + 15s), Action::none);
  EXPECT_EQ(liveness.poll(t0 + 20s), Action::none);
}

TEST(Liveness, ReadsPostponeThePing) {
  Liveness liveness(settings(), t0);
  liveness.on_read(t0 + 10s);
  EXPECT_EQ(liveness.next_deadline(), t0 + 25s);
  EXPECT_EQ(liveness.poll(t0 + 15s), Action::none);
  EXPECT_EQ(liveness.poll(t0 + 24999ms), Action::none);
  liveness.on_read(t0 + 24s);
  EXPECT_EQ(liveness.poll(t0 + 25s), Action::none);
  EXPECT_EQ(liveness.next_deadline(), t0 + 39s);
  EXPECT_EQ(liveness.poll(t0 + 39s), Action::send_ping);
}

TEST(Liveness, ExpiresWhenNoAckWithinTimeout) {
  Liveness liveness(settings(), t0);
  ASSERT_EQ(liveness.poll(t0 + 15s), Action::send_ping);
  EXPECT_EQ(liveness.next_deadline(), t0 + 25s);
  EXPECT_EQ(liveness.poll(t0 + 24999ms), Action::none);
  EXPECT_EQ(liveness.poll(t0 + 25s), Action::expired);
  EXPECT_EQ(liveness.poll(t0 + 60s), Action::expired);
}

TEST(Liveness, OtherReadsDoNotExcuseAMissingAck) {
  // docs/protocol.md §3: no ACK within ping_timeout closes the session.
  Liveness liveness(settings(), t0);
  ASSERT_EQ(liveness.poll(t0 + 15s), Action::send_ping);
  liveness.on_read(t0 + 20s);
  EXPECT_EQ(liveness.poll(t0 + 25s), Action::expired);
}

TEST(Liveness, AckReportsRoundTripAndResets) {
  Liveness liveness(settings(), t0);
  ASSERT_EQ(liveness.poll(t0 + 15s), Action::send_ping);
  // The driver records the read that carried the ACK, then the ACK itself.
  const TimePoint ack_at = t0 + 15s + 42ms;
  liveness.on_read(ack_at);
  EXPECT_EQ(liveness.on_ping_ack(ack_at), std::chrono::microseconds(42'000));
  // Back to watching for silence, measured from the ACK's read.
  EXPECT_EQ(liveness.next_deadline(), ack_at + 15s);
  EXPECT_EQ(liveness.poll(t0 + 25s), Action::none) << "the old PING no longer expires";
  EXPECT_EQ(liveness.poll(ack_at + 15s - 1ms), Action::none);
  EXPECT_EQ(liveness.poll(ack_at + 15s), Action::send_ping);
  EXPECT_EQ(liveness.next_deadline(), ack_at + 25s);
}

TEST(Liveness, UnsolicitedAckReportsZero) {
  Liveness liveness(settings(), t0);
  EXPECT_EQ(liveness.on_ping_ack(t0 + 1s), std::chrono::microseconds(0));
  EXPECT_EQ(liveness.poll(t0 + 1s), Action::none);
  EXPECT_EQ(liveness.next_deadline(), t0 + 15s);
}

TEST(Liveness, SecondAckForTheSamePingReportsZero) {
  Liveness liveness(settings(), t0);
  ASSERT_EQ(liveness.poll(t0 + 15s), Action::send_ping);
  liveness.on_read(t0 + 16s);
  EXPECT_EQ(liveness.on_ping_ack(t0 + 16s), std::chrono::microseconds(1'000'000));
  EXPECT_EQ(liveness.on_ping_ack(t0 + 17s), std::chrono::microseconds(0));
}

TEST(Liveness, DeadlinesFollowSettings) {
  LivenessSettings s;
  s.ping_interval = 200ms;
  s.ping_timeout = 50ms;
  Liveness liveness(s, t0);
  EXPECT_EQ(liveness.next_deadline(), t0 + 200ms);
  ASSERT_EQ(liveness.poll(liveness.next_deadline()), Action::send_ping);
  EXPECT_EQ(liveness.next_deadline(), t0 + 250ms);
  EXPECT_EQ(liveness.poll(liveness.next_deadline()), Action::expired);
}

}  // namespace
}  // namespace dialback::h2
