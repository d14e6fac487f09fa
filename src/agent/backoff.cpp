#include "agent/backoff.hpp"

#include <algorithm>

namespace dialback::agent {

Backoff::Millis Backoff::next() {
  const int shift = std::min(attempt_, 20);
  const auto step = std::min<Millis::rep>(cap_.count(), initial_.count() << shift);
  ++attempt_;
  const double jitter = std::clamp(uniform01_(), 0.0, 1.0);
  return Millis(step / 2 + static_cast<Millis::rep>(static_cast<double>(step / 2) * jitter));
}

}  // namespace dialback::agent
