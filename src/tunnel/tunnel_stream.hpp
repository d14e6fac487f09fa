// TunnelStream: the edge's view of one exchange it opened on a TunnelSession.
#pragma once

#include <chrono>

#include "tunnel/stream_body.hpp"

namespace dialback {

class TunnelStream : public StreamBody {
 public:
  // The agent's response head; fails with Error::timeout at `deadline`.
  virtual Task<Result<ResponseHead>> read_response(
      std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace dialback
