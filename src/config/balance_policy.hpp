// How the edge picks a session among the eligible sessions of a tunnel
// (docs/protocol.md §4). Shared by config (parsing) and routing (selection).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dialback {

enum class BalancePolicy { least_inflight, round_robin, hash };

constexpr std::string_view to_string(BalancePolicy policy) noexcept {
  switch (policy) {
    case BalancePolicy::least_inflight: return "least_inflight";
    case BalancePolicy::round_robin: return "round_robin";
    case BalancePolicy::hash: return "hash";
  }
  return "unknown";
}

// Parses the config spelling ("least_inflight", "round_robin", "hash").
constexpr std::optional<BalancePolicy> parse_balance_policy(std::string_view text) noexcept {
  if (text == "least_inflight") return BalancePolicy::least_inflight;
  if (text == "round_robin") return BalancePolicy::round_robin;
  if (text == "hash") return BalancePolicy::hash;
  return std::nullopt;
}

// What `balance: hash` hashes (tunnels.<name>.hash_key).
struct HashKey {
  enum class Source { client_ip, header, cookie };
  Source source = Source::client_ip;
  std::string name;  // header (lower case) or cookie name

  friend bool operator==(const HashKey&, const HashKey&) = default;
};

}  // namespace dialback
