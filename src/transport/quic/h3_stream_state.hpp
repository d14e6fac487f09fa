// H3StreamState: everything one HTTP/3 request stream holds, shared between
// the engine (while the stream is open) and the handle a coroutine uses.
// The field names match H2StreamState's where the meaning is the same, so
// that one handle template serves both (transport/engine_stream_handle.hpp).
// Single-threaded: touched only on the session's executor.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <system_error>

#include "transport/h2/fifo_queue.hpp"
#include "transport/stream_waiter.hpp"
#include "tunnel/message.hpp"

namespace dialback::quic {

class QuicEngine;

struct H3StreamState {
  std::int64_t id = -1;          // the QUIC stream id (not the id nghttp3 sees)
  QuicEngine* engine = nullptr;  // null once the stream has left the engine
  StreamWaiter* waiter = nullptr;

  // Inbound: the peer's head, body and trailers.
  HeaderList receiving;            // header block being received
  std::size_t receiving_size = 0;  // its size so far (name + value + 32 per field)
  bool head_oversized = false;     // the head broke max_header_bytes
  bool receiving_trailers = false;
  HeaderList head;                          // with pseudo-headers
  h2::FifoQueue<HeaderList> informational;  // edge: 1xx heads not yet read
  bool head_received = false;
  h2::FifoQueue<std::string> body;
  std::size_t body_queued = 0;  // bytes in `body`, not yet given back to flow control
  bool body_ended = false;
  HeaderList trailers;

  // Outbound body. nghttp3 refers to these bytes until the peer acknowledged
  // them, so chunks never move: a deque of strings, the acknowledged ones
  // popped from the front.
  std::deque<std::string> out;
  std::size_t out_acked = 0;         // bytes of out.front() acknowledged
  std::size_t out_given_chunk = 0;   // index in `out` of the next chunk to hand to nghttp3
  std::size_t out_unsent = 0;        // bytes not yet handed to nghttp3 (the writer's backpressure)
  bool out_ended = false;
  bool has_provider = false;  // false when the head was sent with the end of the stream
  bool deferred = false;      // the reader returned WOULDBLOCK and waits for resume
  HeaderList out_trailers;

  // End of the stream.
  bool reset_received = false;  // the peer sent RESET_STREAM
  bool closed = false;
  std::error_code error;  // set when the stream ended before both bodies completed

  std::size_t out_queued() const { return out_unsent; }

  void wake() {
    if (waiter != nullptr) waiter->wake();
  }
};

}  // namespace dialback::quic
