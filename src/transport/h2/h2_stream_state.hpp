// H2StreamState: everything one HTTP/2 stream holds, shared between the
// engine (while the stream is open) and the handle a coroutine uses.
// Single-threaded: touched only on the session's executor.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "transport/h2/fifo_queue.hpp"
#include "transport/stream_waiter.hpp"
#include "tunnel/message.hpp"

namespace dialback::h2 {

class H2Engine;

struct H2StreamState {
  std::int32_t id = -1;
  H2Engine* engine = nullptr;    // null once the stream has left the engine
  StreamWaiter* waiter = nullptr;

  // Inbound: the peer's head, body and trailers.
  HeaderList receiving;          // header block being received
  std::size_t receiving_size = 0;    // its RFC 9113 size so far
  std::size_t receiving_fields = 0;  // its regular (not pseudo-header) fields so far
  bool head_oversized = false;   // the request head broke the header limits (431)
  HeaderList head;               // with pseudo-headers (":status" / ":method" ...)
  FifoQueue<HeaderList> informational;  // client role: 1xx heads not yet read
  bool head_received = false;
  FifoQueue<std::string> body;
  std::size_t body_queued = 0;   // bytes in `body`, not yet given back to flow control
  bool body_ended = false;
  HeaderList trailers;

  // Outbound: our body, taken by nghttp2's data provider.
  std::string out;
  std::size_t out_pos = 0;
  bool out_ended = false;
  bool has_provider = false;     // false when the head was sent with END_STREAM
  bool deferred = false;         // the provider returned DEFERRED and waits for resume
  HeaderList out_trailers;

  // End of the stream.
  bool reset_received = false;   // the peer sent RST_STREAM
  bool closed = false;
  std::error_code error;         // set when the stream ended before both bodies completed

  std::size_t out_queued() const { return out.size() - out_pos; }

  // Back to the state of a new stream, for the engine to reuse. The buffers
  // keep their capacity (so the next stream fills them without allocating)
  // unless it is larger than a typical stream needs: then they are freed.
  static constexpr std::size_t kKeptSendBuffer = 16u << 10;  // bytes
  static constexpr std::size_t kKeptHeaderFields = 32;
  static constexpr std::size_t kKeptChunks = 64;
  void reuse() {
    HeaderList kept_receiving = std::move(receiving);
    FifoQueue<std::string> kept_body = std::move(body);
    std::string kept_out = std::move(out);
    *this = H2StreamState{};  // every field to its default: none can be forgotten
    kept_receiving.clear();
    kept_body.clear();
    kept_out.clear();
    if (kept_receiving.capacity() <= kKeptHeaderFields) receiving = std::move(kept_receiving);
    if (kept_body.capacity() <= kKeptChunks) body = std::move(kept_body);
    if (kept_out.capacity() <= kKeptSendBuffer) out = std::move(kept_out);
  }

  void wake() {
    if (waiter != nullptr) waiter->wake();
  }
};

}  // namespace dialback::h2
