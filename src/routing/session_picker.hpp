// Chooses one session of a tunnel for a public request (docs/protocol.md §4,
// step 3). Pure logic; one picker per tunnel, used from one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace dialback {

// Mirrors config's BalancePolicy; the edge maps one to the other.
enum class PickPolicy { least_inflight, round_robin };

// What the picker needs to know about one session.
struct PickCandidate {
  std::size_t inflight = 0;  // streams currently open on the session
  bool accepting = true;     // false while the session drains or is closing
};

class SessionPicker {
 public:
  explicit SessionPicker(PickPolicy policy) : policy_(policy) {}

  // Index into `candidates` of the session to use, or nullopt when none is
  // accepting. least_inflight: the fewest in-flight streams, ties broken by
  // rotation so equally loaded sessions take turns. round_robin: the next
  // accepting session after the previous pick. The candidate list may change
  // between calls (sessions come and go); the rotation then continues from
  // the same position modulo the new size.
  std::optional<std::size_t> pick(std::span<const PickCandidate> candidates);

  PickPolicy policy() const { return policy_; }

 private:
  PickPolicy policy_;
  std::size_t cursor_ = 0;  // where the next scan starts
};

}  // namespace dialback
