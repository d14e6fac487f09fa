#include "agent/error_response.hpp"

namespace dialback::agent {

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

}  // namespace dialback::agent
