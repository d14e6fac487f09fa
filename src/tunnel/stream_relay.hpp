// Byte relay between a socket and a tunnel stream, for exchanges that stop
// being HTTP after their heads (WebSocket and other upgrades): the edge
// relays public socket <-> TunnelStream, the agent IncomingStream <-> local
// service socket, both with relay_bytes().
//
// Backpressure both ways, nothing unbounded: the socket is read again only
// when the stream accepted the previous chunk (write_body completes), and the
// stream is read again only when the socket took the previous chunk.
// Half-close is carried through: EOF from the socket ends the stream's body
// (end_body); the end of the stream's body shuts the socket's sending side
// down. Any error aborts both: the stream is reset and the socket closed.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "core/task_group.hpp"
#include "tunnel/stream_body.hpp"

namespace dialback {

inline constexpr std::size_t kRelayChunk = 64u << 10;

struct RelayResult {
  // Bytes relayed each way, up to the end or the failure.
  std::uint64_t to_stream = 0;  // bytes read from the socket and written to the stream
  std::uint64_t to_socket = 0;  // bytes read from the stream and written to the socket
  std::error_code error;        // the first failure; empty when both directions ended cleanly
};

namespace relay_detail {

template <class Stream>
void abort_both(Stream& socket, StreamBody& body) {
  error_code ignored;
  lowest_socket(socket).close(ignored);
  body.reset(Error::cancelled);
}

// Shared by relay_bytes() and its child coroutine; lives in relay_bytes()'s
// frame, which joins the child before returning.
struct RelayState {
  Result<std::uint64_t> result = 0;
  std::uint64_t relayed = 0;    // bytes written to the socket, also when it failed
  std::error_code first_error;  // the failure that aborted the relay, whichever side saw it
};

}  // namespace relay_detail

// Socket -> stream. Writes `pending` (bytes already read past an HTTP head)
// first, then everything the socket delivers; at EOF ends the stream's body.
// Returns the bytes relayed, which `relayed` counts as they go (also when it
// fails). On failure the caller aborts both sides.
template <class Socket>
Task<Result<std::uint64_t>> relay_socket_to_stream(Socket& socket, StreamBody& sink,
                                                   std::string pending, std::uint64_t& relayed) {
  if (!pending.empty()) {
    auto written = co_await sink.write_body(pending);
    if (!written) co_return fail(written.error());
    relayed += pending.size();
  }
  std::string chunk(kRelayChunk, '\0');
  for (;;) {
    error_code ec;
    const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), nothrow(ec));
    if (n > 0) {
      auto written = co_await sink.write_body({chunk.data(), n});
      if (!written) co_return fail(written.error());
      relayed += n;
    }
    if (ec == asio::error::eof) {
      auto ended = sink.end_body({});
      if (!ended) co_return fail(ended.error());
      co_return relayed;
    }
    if (ec) co_return fail(ec);
  }
}

// Stream -> socket. Writes every chunk of the stream's body; at its end shuts
// the socket's sending side down (the socket stays open for reading). Under
// TLS that is a bare TCP FIN, without close_notify.
// Returns the bytes relayed, which `relayed` counts as they go (also when it
// fails). On failure the caller aborts both sides.
template <class Socket>
Task<Result<std::uint64_t>> relay_stream_to_socket(StreamBody& source, Socket& socket,
                                                   std::uint64_t& relayed) {
  for (;;) {
    auto chunk = co_await source.read_body();
    if (!chunk) co_return fail(chunk.error());
    if (!chunk->has_value()) {
      error_code ignored;  // the peer may be gone already: its read side reports that
      lowest_socket(socket).shutdown(tcp::socket::shutdown_send, ignored);
      co_return relayed;
    }
    const std::string& data = **chunk;
    error_code ec;
    co_await asio::async_write(socket, asio::buffer(data), nothrow(ec));
    if (ec) co_return fail(ec);
    relayed += data.size();
  }
}

namespace relay_detail {

template <class Socket>
Task<void> run_downlink(StreamBody* source, Socket* socket, RelayState* downlink) {
  downlink->result = co_await relay_stream_to_socket(*source, *socket, downlink->relayed);
  if (!downlink->result) {
    if (!downlink->first_error) downlink->first_error = downlink->result.error();
    abort_both(*socket, *source);
  }
}

}  // namespace relay_detail

// Relays both directions until both have ended (cleanly or not). `pending`
// holds bytes already read from the socket. Runs on the socket's executor,
// which must be the stream's; the socket and the stream must outlive the
// call and have no other reader or writer meanwhile. When it returns
// cleanly the socket's sending side is shut down and the stream's body
// ended; the caller closes the socket and drops the stream.
template <class Socket>
Task<RelayResult> relay_bytes(Socket& socket, StreamBody& stream, std::string pending) {
  relay_detail::RelayState downlink;
  TaskGroup child(socket.get_executor(), nullptr, "byte relay");
  child.spawn(relay_detail::run_downlink(&stream, &socket, &downlink));
  std::uint64_t uplinked = 0;
  auto uplink = co_await relay_socket_to_stream(socket, stream, std::move(pending), uplinked);
  if (!uplink) {
    if (!downlink.first_error) downlink.first_error = uplink.error();
    relay_detail::abort_both(socket, stream);
  }
  co_await child.join();

  RelayResult result;
  result.to_stream = uplinked;  // what moved before a failure counts too
  result.to_socket = downlink.relayed;
  result.error = downlink.first_error;
  co_return result;
}

}  // namespace dialback
