// The pieces of the edge's limits: TokenBucket, KeyedRateLimiter, LogSampler (pure,
// the time is passed in) and IpNetwork (trusted proxy ranges).
#include <gtest/gtest.h>

#include <chrono>

#include "core/ip_network.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/log_sampler.hpp"
#include "core/token_bucket.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int take_all(TokenBucket& bucket, Clock::time_point now, int most = 100000) {
  int taken = 0;
  while (taken < most && bucket.take(now)) ++taken;
  return taken;
}

TEST(TokenBucketTest, BurstThenRefillAtTheRate) {
  const auto t0 = Clock::now();
  TokenBucket bucket({/*rate=*/10, /*burst=*/5}, t0);
  EXPECT_EQ(take_all(bucket, t0), 5);
  EXPECT_FALSE(bucket.take(t0 + 50ms));  // half a token
  EXPECT_TRUE(bucket.take(t0 + 100ms));
  EXPECT_FALSE(bucket.take(t0 + 100ms));
  EXPECT_EQ(take_all(bucket, t0 + 10s), 5);  // never more than the burst
}

TEST(TokenBucketTest, DisabledAlwaysGives) {
  const auto t0 = Clock::now();
  TokenBucket bucket({0, 0}, t0);
  EXPECT_EQ(take_all(bucket, t0, 1000), 1000);
}

TEST(TokenBucketTest, SecondsToNextToken) {
  const auto t0 = Clock::now();
  TokenBucket slow({0.1, 1}, t0);  // one token per 10 s
  EXPECT_EQ(slow.seconds_to_next(t0), 0);
  EXPECT_TRUE(slow.take(t0));
  EXPECT_EQ(slow.seconds_to_next(t0), 10);
  EXPECT_EQ(slow.seconds_to_next(t0 + 9500ms), 1);
  TokenBucket fast({1000, 1}, t0);
  EXPECT_TRUE(fast.take(t0));
  EXPECT_EQ(fast.seconds_to_next(t0), 1);  // rounded up to a whole second
}

TEST(TokenBucketTest, TimeGoingBackwardsGivesNothing) {
  const auto t0 = Clock::now();
  TokenBucket bucket({10, 1}, t0);
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0 - 1s));
  EXPECT_FALSE(bucket.take(t0));
}

TEST(KeyedRateLimiterTest, KeysHaveTheirOwnBuckets) {
  const auto t0 = Clock::now();
  KeyedRateLimiter limiter({1, 2});
  EXPECT_TRUE(limiter.take("a", t0));
  EXPECT_TRUE(limiter.take("a", t0));
  EXPECT_FALSE(limiter.take("a", t0));
  EXPECT_TRUE(limiter.exhausted("a", t0));
  EXPECT_FALSE(limiter.exhausted("b", t0));
  EXPECT_TRUE(limiter.take("b", t0));
  EXPECT_EQ(limiter.retry_after("a", t0), 1);
  EXPECT_TRUE(limiter.take("a", t0 + 1s));
}

TEST(KeyedRateLimiterTest, TableStaysBounded) {
  const auto t0 = Clock::now();
  KeyedRateLimiter limiter({1, 1}, /*max_keys=*/4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.take("k" + std::to_string(i), t0));
  // Full of busy keys: a new key is allowed but not tracked.
  EXPECT_TRUE(limiter.take("new", t0));
  EXPECT_TRUE(limiter.take("new", t0));
  EXPECT_EQ(limiter.tracked(), 4u);
  // Once the old keys refilled they are forgotten and the new key is tracked.
  EXPECT_TRUE(limiter.take("new", t0 + 2s));
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_FALSE(limiter.take("new", t0 + 2s));
}

TEST(KeyedRateLimiterTest, DisabledNeverRefuses) {
  KeyedRateLimiter limiter({0, 0});
  const auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.take("a", t0));
  EXPECT_FALSE(limiter.exhausted("a", t0));
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(LogSamplerTest, OneLinePerKeyPerIntervalWithTheCountLeftOut) {
  const auto t0 = Clock::now();
  LogSampler sampler(10s);
  EXPECT_EQ(sampler.admit("a", t0), 0u);
  EXPECT_FALSE(sampler.admit("a", t0 + 1s));
  EXPECT_FALSE(sampler.admit("a", t0 + 9s));
  EXPECT_EQ(sampler.admit("b", t0 + 9s), 0u);  // keys are independent
  EXPECT_EQ(sampler.admit("a", t0 + 10s), 2u);
  EXPECT_FALSE(sampler.admit("a", t0 + 11s));
}

TEST(LogSamplerTest, TableStaysBounded) {
  const auto t0 = Clock::now();
  LogSampler sampler(10s, /*max_keys=*/2);
  EXPECT_EQ(sampler.admit("a", t0), 0u);
  EXPECT_EQ(sampler.admit("b", t0), 0u);
  EXPECT_EQ(sampler.admit("c", t0), 0u);  // full of busy keys: written, not tracked
  EXPECT_EQ(sampler.admit("c", t0), 0u);
  EXPECT_FALSE(sampler.admit("a", t0 + 1s));
  EXPECT_EQ(sampler.admit("c", t0 + 10s), 0u);  // a and b expired and were forgotten
  EXPECT_FALSE(sampler.admit("c", t0 + 11s));
}

struct NetworkCase {
  const char* network;
  const char* address;
  bool contained;
};

TEST(IpNetworkTest, ContainsFromTable) {
  const NetworkCase cases[] = {
      {"10.0.0.0/8", "10.1.2.3", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"10.1.2.3", "10.1.2.3", true},
      {"10.1.2.3", "10.1.2.4", false},
      {"192.168.1.77/24", "192.168.1.1", true},  // host bits are cleared
      {"192.168.1.0/23", "192.168.0.255", true},
      {"192.168.1.0/23", "192.168.2.0", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"127.0.0.1/32", "::ffff:127.0.0.1", true},  // IPv4-mapped
      {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/33", "2001:db8:8000::1", false},
      {"::1", "::1", true},
      {"::1", "127.0.0.1", false},
      {"::/0", "127.0.0.1", true},  // as ::ffff:127.0.0.1
  };
  for (const auto& c : cases) {
    auto network = IpNetwork::parse(c.network);
    ASSERT_TRUE(network) << c.network;
    EXPECT_EQ(network->contains(asio::ip::make_address(c.address)), c.contained)
        << c.network << " " << c.address;
  }
}

TEST(IpNetworkTest, RejectsWhatIsNotCidr) {
  for (const char* text : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0/8", "host.example",
                           "10.0.0.0/8x", "10.0.0.0/-1", "1.2.3.4/ 8"}) {
    EXPECT_FALSE(IpNetwork::parse(text)) << text;
  }
  EXPECT_EQ(IpNetwork::parse("192.168.1.77/24")->to_string(), "192.168.1.0/24");
}

TEST(IpNetworkTest, InAny) {
  std::vector<IpNetwork> networks{*IpNetwork::parse("10.0.0.0/8"), *IpNetwork::parse("::1")};
  EXPECT_TRUE(in_any(networks, asio::ip::make_address("::1")));
  EXPECT_TRUE(in_any(networks, asio::ip::make_address("10.9.9.9")));
  EXPECT_FALSE(in_any(networks, asio::ip::make_address("127.0.0.1")));
  EXPECT_FALSE(in_any({}, asio::ip::make_address("127.0.0.1")));
}

TEST(IpNetworkTest, SourceKeys) {
  EXPECT_EQ(source_key(asio::ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(source_key(asio::ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(source_key(asio::ip::make_address("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
  EXPECT_EQ(source_key(asio::ip::make_address("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
}

}  // namespace
}  // namespace dialback
