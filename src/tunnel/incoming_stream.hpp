// IncomingStream: the agent's view of one exchange the edge opened.
#pragma once

#include "tunnel/stream_body.hpp"

namespace dialback {

class IncomingStream : public StreamBody {
 public:
  virtual const RequestHead& request() const = 0;
  // False when the request head ended the edge's side (no body follows).
  virtual bool has_body() const = 0;
  // Sends the response head; with end_stream the exchange ends with it (HEAD, 204, 304).
  virtual Result<void> respond(const ResponseHead& head, bool end_stream) = 0;
  // Sends a 1xx head (not 101) ahead of the response: 100 Continue, 103 Early Hints.
  virtual Result<void> respond_informational(const ResponseHead& head) = 0;
};

}  // namespace dialback
