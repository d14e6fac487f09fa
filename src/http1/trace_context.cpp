#include "http1/trace_context.hpp"

#include <algorithm>

namespace dialback::http1 {
namespace {

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

void append_hex(std::string& out, std::uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xf];
}

}  // namespace

bool is_valid_traceparent(std::string_view value) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  if (value.size() != 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  const auto version = value.substr(0, 2);
  const auto trace = value.substr(3, 32);
  const auto parent = value.substr(36, 16);
  const auto flags = value.substr(53, 2);
  return version == "00" && is_lower_hex(trace) && is_lower_hex(parent) && is_lower_hex(flags) &&
         !all_zero(trace) && !all_zero(parent);
}

std::string TraceparentGenerator::next() {
  std::string out = "00-";
  out.reserve(55);
  std::uint64_t trace_high = rng_();
  const std::uint64_t trace_low = rng_();
  std::uint64_t parent = rng_();
  if ((trace_high | trace_low) == 0) trace_high = 1;
  if (parent == 0) parent = 1;
  append_hex(out, trace_high);
  append_hex(out, trace_low);
  out += '-';
  append_hex(out, parent);
  out += "-01";
  return out;
}

}  // namespace dialback::http1
