// TunnelStream: the edge's view of one exchange it opened on a TunnelSession.
#pragma once

#include <chrono>

#include "tunnel/stream_body.hpp"

namespace dialback {

class TunnelStream : public StreamBody {
 public:
  // The next response head: each 1xx (not 101) the agent forwarded, then
  // the final one. Fails with Error::timeout at `deadline`.
  virtual Task<Result<ResponseHead>> read_response(
      std::chrono::steady_clock::time_point deadline) = 0;
  // After read_response(): false when the head ended the response, so no
  // body or trailers follow (HEAD, 204, 304, a gRPC trailers-only answer).
  virtual bool response_has_body() const = 0;
};

}  // namespace dialback
