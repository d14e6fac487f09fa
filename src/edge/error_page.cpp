#include "edge/error_page.hpp"

#include "core/error.hpp"

namespace dialback::edge {
namespace {

constexpr std::size_t kMaxEchoed = 512;

// Printable ASCII and line breaks only, at most kMaxEchoed bytes: a page
// never carries bytes a browser or terminal could interpret.
std::string sanitized(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxEchoed));
  for (char c : text.substr(0, kMaxEchoed)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) || c == '\n' ? c : '?';
  }
  if (text.size() > kMaxEchoed) out += "...";
  return out;
}

}  // namespace

ErrorResponse error_response(http::status status, std::string_view request_id,
                             std::string_view message, std::optional<int> retry_after) {
  ErrorResponse out;
  out.body = sanitized(message) + "\nrequest id: " + sanitized(request_id) + "\n";
  out.head.status = static_cast<int>(status);
  out.head.headers = {
      {"content-type", "text/plain; charset=utf-8"},
      {"x-content-type-options", "nosniff"},
      {"cache-control", "no-store"},
      {"x-request-id", sanitized(request_id)},
      {"dialback-error", std::to_string(static_cast<unsigned>(status))},
  };
  if (retry_after) out.head.headers.push_back({"retry-after", std::to_string(*retry_after)});
  out.head.headers.push_back({"content-length", std::to_string(out.body.size())});
  return out;
}

http::response<http::string_body> error_page(http::status status, std::string_view request_id,
                                             std::string_view message, bool keep_alive,
                                             std::optional<int> retry_after) {
  ErrorResponse content = error_response(status, request_id, message, retry_after);
  http::response<http::string_body> response{status, 11};
  for (const auto& field : content.head.headers) {
    if (field.name == "content-length") continue;
    // Known fields in their usual spelling (Content-Type); ours as HTTP/1.1 peers know them.
    const auto known = http::string_to_field(field.name);
    if (known != http::field::unknown) {
      response.insert(known, field.value);
    } else if (field.name == "dialback-error") {
      response.insert("Dialback-Error", field.value);
    } else if (field.name == "x-content-type-options") {
      response.insert("X-Content-Type-Options", field.value);
    } else {
      response.insert(field.name, field.value);
    }
  }
  response.body() = std::move(content.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

TunnelFailure describe_tunnel_failure(std::error_code error) {
  using S = http::status;
  if (error == Error::timeout) {
    return {S::gateway_timeout, "dialback edge: the agent did not answer in time", "timeout"};
  }
  if (error == Error::limit_exceeded) {
    return {S::payload_too_large, "dialback edge: request body larger than public.max_body_bytes",
            "rejected: body over the limit"};
  }
  if (error == Error::header_limit) {
    return {S::bad_gateway, "dialback edge: the agent's response was refused (headers too large)",
            "refused-response: header block over agents.max_response_header_bytes"};
  }
  if (error == Error::stream_invalid) {
    return {S::bad_gateway, "dialback edge: the agent's response was refused (invalid)",
            "refused-response: invalid HTTP/2 from the agent"};
  }
  if (error == Error::stream_reset || error == Error::stream_refused) {
    return {S::bad_gateway, "dialback edge: the agent reset the request", "agent-reset"};
  }
  if (error == Error::cancelled) {
    // This side reset the tunnel stream because the public client reset its
    // stream or left.
    return {S::bad_gateway, "dialback edge: the request was cancelled", "client-gone"};
  }
  return {S::bad_gateway, "dialback edge: the tunnel to the agent failed",
          "agent-session-ended (" + error.message() + ")"};
}

std::string relay_failure_reason(std::error_code error) {
  // Socket errors are the public client's side: it left or stopped reading.
  if (error.category() != dialback_category()) return "client-gone (" + error.message() + ")";
  return describe_tunnel_failure(error).reason;
}

}  // namespace dialback::edge
