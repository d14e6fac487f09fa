#include "edge/error_page.hpp"

namespace dialback::edge {

ErrorResponse error_response(http::status status, std::string_view request_id,
                             std::string message, std::optional<int> retry_after) {
  ErrorResponse out;
  out.body = std::move(message) + "\nrequest id: " + std::string(request_id) + "\n";
  out.head.status = static_cast<int>(status);
  out.head.headers = {
      {"content-type", "text/plain; charset=utf-8"},
      {"cache-control", "no-store"},
      {"x-request-id", std::string(request_id)},
      {"dialback-error", std::to_string(static_cast<unsigned>(status))},
  };
  if (retry_after) out.head.headers.push_back({"retry-after", std::to_string(*retry_after)});
  out.head.headers.push_back({"content-length", std::to_string(out.body.size())});
  return out;
}

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string message, bool keep_alive,
                                             std::optional<int> retry_after) {
  ErrorResponse content = error_response(status, request_id, std::move(message), retry_after);
  http::response<http::string_body> response{status, 11};
  for (const auto& field : content.head.headers) {
    if (field.name == "content-length") continue;
    // Known fields in their usual spelling (Content-Type); ours as HTTP/1.1 peers know them.
    const auto known = http::string_to_field(field.name);
    if (known != http::field::unknown) {
      response.insert(known, field.value);
    } else if (field.name == "dialback-error") {
      response.insert("Dialback-Error", field.value);
    } else {
      response.insert(field.name, field.value);
    }
  }
  response.body() = std::move(content.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

}  // namespace dialback::edge
