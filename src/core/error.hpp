// dialback's own error codes, one category. Codes from nghttp2, OpenSSL and
// Asio are converted at the boundary or passed through as std::error_code.
#pragma once

#include <string_view>
#include <system_error>

namespace dialback {

enum class Error {
  ok = 0,
  // registration (docs/protocol.md §2)
  bad_request,         // 400
  unauthorized,        // 401
  forbidden,           // 403
  unknown_tunnel,      // 404
  too_many_sessions,   // 429
  draining,            // 503 from the edge's agent listener
  // sessions and streams
  protocol_error,      // the peer broke HTTP/2 or the handshake
  session_closed,      // the session ended while the operation waited
  stream_reset,        // the peer reset the stream
  stream_refused,      // the peer refused the stream (GOAWAY / REFUSED_STREAM)
  stream_invalid,      // the peer broke HTTP/2 on the stream; this side reset it
  header_limit,        // the peer's header block was over this side's limit; reset here
  ping_timeout,        // no PING ACK within ping_timeout
  no_session,          // the tunnel has no eligible session
  // upstream (agent side)
  upstream_connect,    // the local service refused or did not answer the connect
  upstream_timeout,    // the local service did not answer in time
  upstream_protocol,   // the local service sent something that is not HTTP/1.1
  // generic
  timeout,
  cancelled,
  config_invalid,
  limit_exceeded,
};

const std::error_category& dialback_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), dialback_category()};
}

// Short stable name of an error code, for logs and metrics ("stream_reset").
std::string_view error_name(Error e) noexcept;

}  // namespace dialback

template <>
struct std::is_error_code_enum<dialback::Error> : std::true_type {};
