// W3C Trace Context (traceparent) for requests that arrive without one.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace dialback::http1 {

// True for a well-formed version-00 traceparent ("00-<32 hex>-<16 hex>-<2 hex>",
// trace and parent ids not all zero).
bool is_valid_traceparent(std::string_view value);

// Makes new traceparent values: random trace and parent ids, sampled flag set.
// One per public listener; not thread-safe.
class TraceparentGenerator {
 public:
  explicit TraceparentGenerator(std::uint64_t seed) : rng_(seed) {}
  std::string next();

 private:
  std::mt19937_64 rng_;
};

}  // namespace dialback::http1
