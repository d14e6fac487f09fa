#include "routing/outlier_detector.hpp"

#include <algorithm>

namespace dialback {

void OutlierDetector::record_success() {
  failures_ = 0;
  ejections_ = 0;
}

bool OutlierDetector::record_failure(const OutlierPolicy& policy, Clock::time_point now) {
  if (policy.consecutive_failures == 0) return false;
  // Failures of streams picked while ejected (no other session was left)
  // do not extend the ejection.
  if (ejected(now)) return false;
  if (++failures_ < policy.consecutive_failures) return false;
  failures_ = 0;
  // base * 2^ejections, capped. With the shift bounded and base_ejection
  // at most 24 h (config validation) this cannot overflow.
  const auto doubled =
      policy.base_ejection * (std::int64_t{1} << std::min<std::uint32_t>(ejections_, 20));
  ejected_until_ = now + std::min<std::chrono::milliseconds>(doubled, policy.max_ejection);
  ++ejections_;
  return true;
}

}  // namespace dialback
