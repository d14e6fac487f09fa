// ConnectionSlots: public.limits.connections_per_ip across the public
// listeners (TCP and QUIC): open connections counted by the client's
// source key (core/ip_network.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

namespace dialback::edge {

class ConnectionSlots {
 public:
  // `cap` 0: no limit.
  explicit ConnectionSlots(std::size_t cap) : cap_(cap) {}

  // Takes a slot for `source`; false when it has none left. Every true is
  // matched by release().
  bool take(const std::string& source) {
    if (cap_ == 0) return true;
    std::size_t& open = open_[source];  // at least 1 when present
    if (open >= cap_) return false;
    ++open;
    return true;
  }

  void release(const std::string& source) {
    if (cap_ == 0) return;
    auto it = open_.find(source);
    if (it != open_.end() && --it->second == 0) open_.erase(it);
  }

 private:
  std::size_t cap_;
  std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace dialback::edge
