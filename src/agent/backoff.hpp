// Backoff: jittered exponential reconnect delays (0.5 s doubling to a 30 s
// cap by default). The random source is injected so tests are exact.
#pragma once

#include <chrono>
#include <functional>

namespace dialback::agent {

class Backoff {
 public:
  using Millis = std::chrono::milliseconds;
  // `uniform01` returns values in [0, 1).
  Backoff(Millis initial, Millis cap, std::function<double()> uniform01)
      : initial_(initial), cap_(cap), uniform01_(std::move(uniform01)) {}

  // The next delay: half the current step plus a random part of the other half.
  Millis next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  Millis initial_;
  Millis cap_;
  std::function<double()> uniform01_;
  int attempt_ = 0;
};

}  // namespace dialback::agent
