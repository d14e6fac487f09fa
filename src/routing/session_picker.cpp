#include "routing/session_picker.hpp"

namespace dialback {

std::optional<std::size_t> SessionPicker::pick(std::span<const PickCandidate> candidates) {
  const std::size_t n = candidates.size();
  if (n == 0) return std::nullopt;

  // Scan every candidate once, starting at the cursor; for round robin the
  // first accepting one wins, for least_inflight the first with the minimum.
  std::optional<std::size_t> best;
  const std::size_t start = cursor_ % n;
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t i = (start + step) % n;
    if (!candidates[i].accepting) continue;
    if (!best || candidates[i].inflight < candidates[*best].inflight) best = i;
    if (policy_ == PickPolicy::round_robin) break;
  }
  if (best) cursor_ = *best + 1;
  return best;
}

}  // namespace dialback
