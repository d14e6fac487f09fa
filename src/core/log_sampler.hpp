// LogSampler: decides which log lines about a peer are written when the
// peer controls how many there could be (refused registrations, HTTP/2
// connections ended for abuse): at most one line per key (a source address)
// per interval, the line telling how many were left out since the last one.
// The table of keys is bounded; keys whose interval passed are forgotten
// first.
//
// Pure (time passed in); single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace dialback {

class LogSampler {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogSampler(Clock::duration interval, std::size_t max_keys = 65536)
      : interval_(interval), max_keys_(max_keys) {}

  // A line about `key` is due now: returns how many lines about it were
  // left out since the last one written, or nullopt when this one is left
  // out too.
  std::optional<std::uint64_t> admit(const std::string& key, Clock::time_point now) {
    if (entries_.size() >= max_keys_) {
      std::erase_if(entries_,
                    [&](const auto& entry) { return now - entry.second.written >= interval_; });
    }
    auto [it, added] = entries_.try_emplace(key);
    Entry& entry = it->second;
    if (!added && now - entry.written < interval_) {
      ++entry.left_out;
      return std::nullopt;
    }
    if (added && entries_.size() > max_keys_) {  // full of busy keys: write, do not track
      entries_.erase(it);
      return 0;
    }
    const std::uint64_t left_out = entry.left_out;
    entry.written = now;
    entry.left_out = 0;
    return left_out;
  }

 private:
  struct Entry {
    Clock::time_point written{};
    std::uint64_t left_out = 0;
  };
  Clock::duration interval_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace dialback
