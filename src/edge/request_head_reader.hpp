// Reading the head of the next request on a public HTTP/1.1 connection, with
// the edge's header limits, raw-byte checks (http1/request_validation.hpp) and
// timeouts. The body is left to the parser: on success, `buffer` holds
// whatever followed the head and `parser` is ready to read the body.
#pragma once

#include <chrono>
#include <string>

#include "core/asio.hpp"
#include "core/deadline.hpp"
#include "http1/request_validation.hpp"

namespace dialback::edge {

struct HeadReadOptions {
  http1::RequestLimits limits;
  // Keep-alive only (not first_request): time to wait for the first byte of
  // the next request; the connection closes silently after it.
  std::chrono::steady_clock::duration idle_timeout;
  // Time for the whole head, from the first byte (keep-alive) or from the
  // accept (first request). After it: 408 when part of a head arrived, a
  // silent close otherwise.
  std::chrono::steady_clock::duration header_timeout;
  bool first_request = true;
};

struct HeadRead {
  enum class Outcome {
    request,   // parser holds a valid head (target normalised to origin-form)
    closed,    // peer closed, idle timeout, error, or nothing sent: close silently
    rejected,  // answer `rejection` with Connection: close, then close
    not_http,  // the first request line is not HTTP/1.x: close without an answer
  };
  Outcome outcome = Outcome::closed;
  http1::Rejection rejection;
};

// Reads into `buffer` (which may already hold pipelined bytes) and parses the
// head into `parser`. `deadline` is the connection's: its expiry must cancel
// (not close) the socket, so that a 408 can still be written. It is clear
// when this returns. Caller: the connection's coroutine, which owns every
// reference for the duration of the await.
// Instantiated for PlainStream and TlsStream (public_stream.hpp).
template <class Stream>
Task<HeadRead> read_request_head(Stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::buffer_body>& parser,
                                 Deadline& deadline, HeadReadOptions options);

}  // namespace dialback::edge
