// StreamBody: the two byte directions of one tunneled exchange, shared by
// both ends of a tunnel (edge: request out, response in; agent: the reverse).
//
// All calls happen on the session's executor. A stream is used by at most
// one reader and one writer coroutine at a time. Destroying a stream that has
// not finished both directions resets it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/error.hpp"
#include "core/result.hpp"
#include "tunnel/message.hpp"

namespace dialback {

class StreamBody {
 public:
  virtual ~StreamBody() = default;

  // Next chunk of the peer's body; nullopt at its end (then trailers() is
  // final), and again on every later call.
  virtual Task<Result<std::optional<std::string>>> read_body() = 0;
  virtual const HeaderList& trailers() const = 0;
  // True when read_body() would complete without waiting (a chunk is
  // queued, or the body ended or failed): a writer may then send the
  // first chunk together with what precedes it.
  virtual bool body_ready() const = 0;

  // Queues `data`; completes once the transport has room again (backpressure),
  // not when the peer received it.
  virtual Task<Result<void>> write_body(std::string_view data) = 0;
  // Ends our body, with optional trailers.
  virtual Result<void> end_body(HeaderList trailers = {}) = 0;

  // Aborts both directions; the peer sees a reset carrying `reason`.
  virtual void reset(Error reason) = 0;

  // Runs `handler` once, on the executor (never inside a transport
  // callback), when the stream ends before both directions completed: the
  // peer reset it or its session ended. Lets a bridge cancel the other side
  // while it waits for something else (a response head). Replaces a previous
  // handler; never runs after the stream is destroyed.
  virtual void on_abort(std::function<void()> handler) = 0;
};

}  // namespace dialback
