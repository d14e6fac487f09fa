#include "edge/error_page.hpp"

namespace dialback::edge {

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string message, bool keep_alive,
                                             std::optional<int> retry_after) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.set("X-Request-Id", request_id);
  response.set("Dialback-Error", std::to_string(static_cast<unsigned>(status)));
  if (retry_after) response.set(http::field::retry_after, std::to_string(*retry_after));
  response.body() = std::move(message) + "\nrequest id: " + std::string(request_id) + "\n";
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

}  // namespace dialback::edge
