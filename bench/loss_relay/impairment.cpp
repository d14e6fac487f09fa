#include "impairment.hpp"

#include <algorithm>
#include <vector>

namespace dialback::loss_relay {
namespace {

std::mt19937_64 seeded(std::uint64_t seed, const StreamId& stream) {
  auto word = [](std::uint64_t value, int half) {
    return static_cast<std::uint32_t>(half == 0 ? value : value >> 32);
  };
  const std::uint64_t parts[] = {seed, static_cast<std::uint64_t>(stream.protocol),
                                 stream.forward_index, stream.flow_index,
                                 static_cast<std::uint64_t>(stream.direction)};
  std::vector<std::uint32_t> words;
  for (auto part : parts) {
    words.push_back(word(part, 0));
    words.push_back(word(part, 1));
  }
  std::seed_seq sequence(words.begin(), words.end());
  return std::mt19937_64(sequence);
}

}  // namespace

const char* direction_name(Direction direction) {
  return direction == Direction::up ? "up" : "down";
}

Impairment::Impairment(const PathOptions& options, const StreamId& stream)
    : options_(options), random_(seeded(options.seed, stream)) {}

double Impairment::uniform() {
  // The top 53 bits as a double in [0, 1): std::uniform_real_distribution's
  // algorithm is the library's choice, this is not.
  return static_cast<double>(random_() >> 11) * 0x1.0p-53;
}

bool Impairment::lose() {
  if (options_.loss <= 0) return false;
  if (options_.loss >= 1) return true;
  return uniform() < options_.loss;
}

Clock::time_point Impairment::arrival(Clock::time_point now) {
  auto delay = options_.delay;
  if (options_.jitter.count() > 0) {
    delay += std::chrono::duration_cast<Duration>(options_.jitter * uniform());
  }
  last_arrival_ = std::max(last_arrival_, now + delay);
  return last_arrival_;
}

}  // namespace dialback::loss_relay
