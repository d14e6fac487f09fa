// TokenBucket: a rate limit as `burst` tokens refilled at `rate` per second.
// Pure: the caller passes the time, so tests need no clock. A bucket with
// burst 0 is "no limit" and always gives a token.
#pragma once

#include <chrono>
#include <cstdint>

namespace dialback {

struct RateLimit {
  double rate = 0;          // tokens per second
  std::uint32_t burst = 0;  // bucket size; 0: no limit
  bool enabled() const { return burst > 0; }
};

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket() = default;
  TokenBucket(RateLimit limit, Clock::time_point now)
      : limit_(limit), tokens_(limit.burst), updated_(now) {}

  // Takes one token; false (and nothing taken) when none is left.
  bool take(Clock::time_point now) {
    if (!limit_.enabled()) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Seconds until the next token: 0 when one is there, else at least 1 (Retry-After).
  int seconds_to_next(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0) return 0;
    if (limit_.rate <= 0) return 3600;
    const double wait = (1.0 - tokens_) / limit_.rate;
    return wait < 1.0 ? 1 : static_cast<int>(wait + 0.999);
  }

  // True when the bucket is full again: it may be forgotten.
  bool full(Clock::time_point now) const {
    const double elapsed =
        now > updated_ ? std::chrono::duration<double>(now - updated_).count() : 0.0;
    return tokens_ + elapsed * limit_.rate >= limit_.burst;
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= updated_) return;
    const double elapsed = std::chrono::duration<double>(now - updated_).count();
    updated_ = now;
    tokens_ += elapsed * limit_.rate;
    if (tokens_ > limit_.burst) tokens_ = limit_.burst;
  }

  RateLimit limit_;
  double tokens_ = 0;
  Clock::time_point updated_{};
};

}  // namespace dialback
