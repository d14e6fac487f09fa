// The short responses the edge itself sends when it cannot forward a request.
// Each body names the hop that failed, so a user can tell edge, tunnel and
// local service apart.
#pragma once

#include <optional>
#include <string>

#include "core/asio.hpp"

namespace dialback::edge {

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string message, bool keep_alive,
                                             std::optional<int> retry_after = std::nullopt);

}  // namespace dialback::edge
