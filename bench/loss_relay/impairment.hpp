// The random part of one direction of one flow: which datagrams or segments
// are lost and when the others arrive. Each direction of each flow has its
// own PRNG, so a run with the same --seed and the same traffic makes the
// same decisions whatever the other flows do.
#pragma once

#include <cstdint>
#include <random>

#include "relay_options.hpp"

namespace dialback::loss_relay {

enum class Direction : std::uint64_t {
  up = 0,    // client -> target
  down = 1,  // target -> client
};
const char* direction_name(Direction direction);

enum class Protocol : std::uint64_t { udp = 0, tcp = 1 };

// Which PRNG stream a direction draws from. Mixed through std::seed_seq
// rather than summed: seed + flow + direction would give flow 0's down
// direction the same stream as flow 1's up direction.
struct StreamId {
  Protocol protocol;
  std::uint64_t forward_index;  // which --udp or --tcp, in command-line order
  std::uint64_t flow_index;     // which client flow or connection of that forward, from 0
  Direction direction;
};

class Impairment {
 public:
  Impairment(const PathOptions& options, const StreamId& stream);

  // True with probability --loss. Draws nothing when the loss is 0 or 1.
  bool lose();

  // When something sent at `now` arrives at the far side: now + delay +
  // jitter, but never before what was sent earlier in this direction (a
  // path reorders nothing; netem's default queue does not either).
  Clock::time_point arrival(Clock::time_point now);

 private:
  double uniform();  // [0, 1), the same on every platform for a given seed

  const PathOptions& options_;
  std::mt19937_64 random_;
  Clock::time_point last_arrival_{};
};

}  // namespace dialback::loss_relay
