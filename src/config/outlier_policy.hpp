// Passive health of agent sessions (agents.outlier_detection in
// docs/configuration.md). Shared by config (parsing) and routing (the
// OutlierDetector that applies it).
#pragma once

#include <chrono>
#include <cstdint>

namespace dialback {

struct OutlierPolicy {
  // Tunnel failures in a row that eject a session; 0 turns detection off.
  std::uint32_t consecutive_failures = 5;
  // The first ejection lasts base_ejection; each ejection in a row doubles
  // it, up to max_ejection.
  std::chrono::milliseconds base_ejection{std::chrono::seconds(10)};
  std::chrono::milliseconds max_ejection{std::chrono::minutes(5)};

  friend bool operator==(const OutlierPolicy&, const OutlierPolicy&) = default;
};

}  // namespace dialback
