// Who is on the other end of a tunnel session (docs/protocol.md §2).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dialback {

struct SessionIdentity {
  std::string tunnel;
  std::string node;
  std::string cluster;   // defaults to the tunnel name
  std::string tenant;    // defaults to "default"
  std::vector<std::pair<std::string, std::string>> labels;
  std::string session_id;  // 128-bit random, hex
  std::string peer_address;  // "ip:port" of the agent as the edge sees it
};

}  // namespace dialback
