// Streaming an HTTP/1.1 body into a tunnel stream and back, one chunk at a
// time, with backpressure both ways: the socket is read only when the tunnel
// accepted the previous chunk, and a tunnel chunk is read only when the socket
// took the previous one. Nothing holds a whole body.
#pragma once

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "http1/chunked_framing.hpp"
#include "http1/trailers.hpp"
#include "tunnel/stream_body.hpp"

namespace dialback::http1 {

inline constexpr std::size_t kBodyChunk = 64u << 10;

// "No limit" for Beast parsers. Boost 1.74's parser compares the length
// against the optional limit, so boost::none (an empty optional) would reject
// every body: use the largest value instead.
inline constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

// Feeds the bytes `buffer` holds to `parser` until it needs more input or
// its body buffer is full. No I/O.
template <bool isRequest>
void parse_buffered(beast::flat_buffer& buffer, http::parser<isRequest, http::buffer_body>& parser,
                    error_code& ec) {
  while (buffer.size() > 0 && !parser.is_done() && parser.get().body().size > 0) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more || ec == http::error::need_buffer) {
      ec = {};
      return;
    }
    if (ec || used == 0) return;
  }
}

// Scans the last `added` bytes of `buffer` with `framing` (when the body is
// chunked and its end was not seen yet); false when the framing is invalid.
inline bool check_framing(std::optional<ChunkedFraming>& framing, const beast::flat_buffer& buffer,
                          std::size_t added) {
  if (!framing || framing->done() || added == 0) return true;
  const std::string_view all(static_cast<const char*>(buffer.data().data()), buffer.size());
  framing->scan(all.substr(all.size() - added));
  return framing->error().empty();
}

// Reads the body of the message `parser` parses (its header already read)
// from `socket` into `sink`, then ends `sink`'s body with the trailers of a
// chunked body.
template <class Socket, bool isRequest>
Task<Result<void>> pump_body_to_tunnel(Socket& socket, beast::flat_buffer& buffer,
                                       http::parser<isRequest, http::buffer_body>& parser,
                                       StreamBody& sink) {
  const auto& fields = static_cast<const http::fields&>(parser.get().base());
  const std::size_t head_fields = std::distance(fields.begin(), fields.end());
  // Beast reads at most the buffer's free capacity (at least 512 bytes):
  // after a small head that would be one tiny read, and one tiny tunnel
  // frame, per 512 bytes of body.
  if (buffer.capacity() - buffer.size() < kBodyChunk) buffer.reserve(buffer.size() + kBodyChunk);
  // Sized to the body when its length is known (most responses are small),
  // and left uninitialised: the parser writes before anything reads.
  const auto length = parser.content_length();
  const std::size_t chunk_size =
      length ? std::clamp<std::uint64_t>(*length, 1, kBodyChunk) : kBodyChunk;
  const auto chunk = std::make_unique_for_overwrite<char[]>(chunk_size);
  // Chunk framing is checked on the raw bytes before Beast sees them.
  std::optional<ChunkedFraming> framing;
  if (parser.chunked()) framing.emplace();
  if (!check_framing(framing, buffer, buffer.size()))
    co_return fail(error_code(http::error::bad_chunk));
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = chunk_size;
    error_code ec;
    // Bytes already read with the head (or the last chunk) are parsed here
    // without I/O: a small body then leaves in the same turn as the head,
    // and the session writes both in one record.
    parse_buffered(buffer, parser, ec);
    if (ec) co_return fail(ec);
    if (parser.get().body().size == chunk_size && !parser.is_done()) {
      // read_some, not read: forward whatever arrived at once (server-sent
      // events, streamed responses) instead of waiting for the chunk to fill.
      const std::size_t n =
          co_await socket.async_read_some(buffer.prepare(kBodyChunk), nothrow(ec));
      buffer.commit(n);
      if (ec == asio::error::eof) {
        parser.put_eof(ec);  // ends a body delimited by the close, else partial_message
      } else if (!ec && !check_framing(framing, buffer, n)) {
        ec = http::error::bad_chunk;
      }
      if (ec) co_return fail(ec);
      parse_buffered(buffer, parser, ec);
      if (ec) co_return fail(ec);
    }
    const std::size_t n = chunk_size - parser.get().body().size;
    if (n > 0) {
      auto written = co_await sink.write_body({chunk.get(), n});
      if (!written) co_return written;
    }
  }
  co_return sink.end_body(parser.chunked() ? trailer_fields(fields, head_fields) : HeaderList{});
}

// The next chunk of `source`'s body joined with the chunks already queued
// behind it, up to about kBodyChunk bytes; nullopt at the body's end. The
// transport delivers a body in pieces of TLS records and frames (often 8 KiB
// on average): one socket write per piece costs a syscall each, one per batch
// costs one for what arrived meanwhile.
inline Task<Result<std::optional<std::string>>> read_ready_body(StreamBody& source) {
  auto chunk = co_await source.read_body();
  if (!chunk || !chunk->has_value()) co_return chunk;
  std::string& joined = **chunk;
  while (joined.size() < kBodyChunk && source.body_ready()) {
    auto more = co_await source.read_body();
    if (!more) co_return fail(more.error());
    if (!more->has_value()) break;  // the end: the next read_body() reports it again
    joined += **more;
  }
  co_return chunk;
}

// Writes `source`'s body through `serializer` to `socket`; a chunked message
// (its header already written) also gets `source`'s trailers in its last
// chunk. A message with a length may come with its header unwritten: the
// first write then carries it with the first body bytes. Returns the number
// of body bytes relayed.
template <class Socket, bool isRequest>
Task<Result<std::uint64_t>> pump_tunnel_to_body(Socket& socket,
                                                http::message<isRequest, http::buffer_body>& message,
                                                http::serializer<isRequest, http::buffer_body>& serializer,
                                                StreamBody& source) {
  std::uint64_t relayed = 0;
  if (message.chunked()) {
    // Chunks written here rather than by the serializer, which cannot
    // write a trailer section with a buffer_body.
    for (;;) {
      auto chunk = co_await read_ready_body(source);
      if (!chunk) co_return fail(chunk.error());
      error_code ec;
      if (!chunk->has_value()) {
        co_await asio::async_write(socket, http::make_chunk_last(trailer_section(source.trailers())),
                                   nothrow(ec));
        if (ec) co_return fail(ec);
        co_return relayed;
      }
      if ((*chunk)->empty()) continue;  // an empty chunk would end the body
      co_await asio::async_write(socket, http::make_chunk(asio::buffer(**chunk)), nothrow(ec));
      if (ec) co_return fail(ec);
      relayed += (*chunk)->size();
    }
  }
  for (;;) {
    auto chunk = co_await read_ready_body(source);
    if (!chunk) co_return fail(chunk.error());
    const bool last = !chunk->has_value();
    message.body().data = last ? nullptr : (*chunk)->data();
    message.body().size = last ? 0 : (*chunk)->size();
    message.body().more = !last;
    error_code ec;
    co_await http::async_write(socket, serializer, nothrow(ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return fail(ec);
    if (last) co_return relayed;
    relayed += (*chunk)->size();
  }
}

}  // namespace dialback::http1
