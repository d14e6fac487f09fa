// The short responses the edge itself sends when it cannot forward a request.
// Each body names the hop that failed, so a user can tell edge, tunnel and
// local service apart. One content for both public protocols: an HTTP/1.1
// message, or a head and body for an HTTP/2 stream.
#pragma once

#include <optional>
#include <string>

#include "core/asio.hpp"
#include "tunnel/message.hpp"

namespace dialback::edge {

struct ErrorResponse {
  ResponseHead head;  // lower-case names, content-length included
  std::string body;
};

ErrorResponse error_response(http::status status, std::string_view request_id,
                             std::string message, std::optional<int> retry_after = std::nullopt);

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string message, bool keep_alive,
                                             std::optional<int> retry_after = std::nullopt);

}  // namespace dialback::edge
