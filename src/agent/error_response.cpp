#include "agent/error_response.hpp"

namespace dialback::agent {
namespace {

// grpc-message is percent-encoded (gRPC over HTTP/2, "Responses").
std::string grpc_message(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

Task<void> respond_error(IncomingStream& stream, int status, std::string message) {
  ResponseHead head;
  head.status = status;
  message += "\n";
  head.headers = {{"content-type", "text/plain; charset=utf-8"},
                  {"content-length", std::to_string(message.size())},
                  {"dialback-error", std::to_string(status)}};
  if (!stream.respond(head, false)) co_return;
  auto written = co_await stream.write_body(message);
  if (!written) co_return;
  stream.end_body({});
}

bool is_grpc(const RequestHead& request) {
  auto type = find_header(request.headers, "content-type");
  return type && type->starts_with("application/grpc");
}

Task<void> respond_failure(IncomingStream& stream, int status, std::string message) {
  if (!is_grpc(stream.request())) {
    co_await respond_error(stream, status, std::move(message));
    co_return;
  }
  ResponseHead head;
  head.status = 200;
  head.headers = {{"content-type", "application/grpc"},
                  {"grpc-status", status == 504 ? "4" : "14"},
                  {"grpc-message", grpc_message(message)},
                  {"dialback-error", std::to_string(status)}};
  stream.respond(head, true);
}

}  // namespace dialback::agent
