// The short responses the edge itself sends when it cannot forward a request.
// Each body names the hop that failed (edge, tunnel, agent, local service)
// and the request id, so a user can tell them apart and an operator can find
// the access log line. Tunnel names, hosts and internal addresses appear only
// with public.verbose_errors. The body is text/plain with nosniff; what it
// echoes is cut short and has control bytes replaced. One content for both
// public protocols: an HTTP/1.1 message, or a head and body for an HTTP/2
// stream.
#pragma once

#include <optional>
#include <string>
#include <system_error>

#include "core/asio.hpp"
#include "tunnel/message.hpp"

namespace dialback::edge {

struct ErrorResponse {
  ResponseHead head;  // lower-case names, content-length included
  std::string body;
};

ErrorResponse error_response(http::status status, std::string_view request_id,
                             std::string_view message,
                             std::optional<int> retry_after = std::nullopt);

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string_view message, bool keep_alive,
                                             std::optional<int> retry_after = std::nullopt);

// How a forwarded exchange failed before its response head: the status, the
// page text (the hop, no internals) and the access log's reason, which says
// who did what ("client-gone", "agent-reset", "refused-response: ...").
// The one mapping for both public protocols: 504 for Error::timeout, 413 for
// Error::limit_exceeded (the request body over public.max_body_bytes, however
// the edge learnt it: declared, or counted while relaying), 502 otherwise.
struct TunnelFailure {
  http::status status = http::status::bad_gateway;
  std::string page;
  std::string reason;
};
TunnelFailure describe_tunnel_failure(std::error_code error);

// The access log's reason for an exchange that failed after its response
// head (the relay): the same words as describe_tunnel_failure().
std::string relay_failure_reason(std::error_code error);

}  // namespace dialback::edge
