// Body copy between two tunnel-shaped streams, for bridges whose both ends
// speak HTTP/2 semantics: the edge's public HTTP/2 front end (public stream
// <-> tunnel stream) and the agent's h2c upstream (tunnel stream <-> local
// service stream). Backpressure: `from` is read again only when `to`
// accepted the previous chunk. Trailers are carried over.
#pragma once

#include <cstdint>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "tunnel/stream_body.hpp"

namespace dialback {

// Copies `from`'s body into `to`, then ends `to`'s body with `from`'s
// trailers. Fails with Error::limit_exceeded once more than `limit` bytes
// arrived (0: no limit). Returns the bytes copied. On failure neither stream
// is reset: the caller decides how to fail each side. A failure of `to`
// (its peer reset it or left) is Error::cancelled; one of `from` is its own.
Task<Result<std::uint64_t>> pump_stream_body(StreamBody& from, StreamBody& to,
                                             std::uint64_t limit = 0);

}  // namespace dialback
