// The registration handshake (docs/protocol.md §2) from both ends, on the same
// bytes: as the agent's request read by the edge (edge/agent_listener.cpp)
// and as the edge's response read by the agent (agent/agent.cpp). Beast
// parses first, with the limits those callers set; what Beast rejects never
// reaches the project's parsers and is skipped.
#include <cstdint>
#include <string_view>

#include "auth/authorization_header.hpp"
#include "core/asio.hpp"
#include "fuzz_support.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

using namespace dialback;

namespace {

// Puts `input` into `parser` as Beast's read functions do, as if it all
// arrived in one read. `header_first`: async_read_header (not eager: the
// parser stops after the head), then async_read (eager) if the message is
// not done, as the agent reads the response; else async_read alone, as the
// edge reads the request. `eof`: the peer then closes (a response body
// delimited by the close). True when Beast parsed a whole message.
template <class Parser>
bool parse_message(Parser& parser, std::string_view input, bool header_first, bool eof) {
  error_code ec;
  const auto put = [&](bool until_header) {
    parser.eager(!until_header);
    while (!input.empty() && !(until_header ? parser.is_header_done() : parser.is_done())) {
      const std::size_t n = parser.put(asio::const_buffer(input.data(), input.size()), ec);
      if (ec == http::error::need_more) break;  // waits for more bytes (then eof)
      if (ec || n == 0) return false;
      input.remove_prefix(n);
    }
    return true;
  };
  if (header_first) {
    if (!put(true) || !parser.is_header_done()) return false;
  }
  if (!put(false)) return false;
  if (!parser.is_done() && eof) {
    ec = {};
    parser.put_eof(ec);
    if (ec) return false;
  }
  return parser.is_done();
}

void agent_request(std::string_view input) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  if (!parse_message(parser, input, false, false)) return;
  auto request = parse_registration_request(parser.get());
  if (request) {
    // What the edge reads of an accepted request must be a valid handshake.
    fuzz::check(request->session_id.size() == 32, "registration: session id is not 32 characters");
    fuzz::check(!request->tunnel.empty() && !request->node.empty(),
                "registration: accepted without tunnel or node");
  }
  const auto authorization = parser.get()[http::field::authorization];
  if (!authorization.empty()) (void)token_from_authorization(authorization);
}

void edge_response(std::string_view input) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (!parse_message(parser, input, true, true)) return;
  auto response = parse_registration_response(parser.get());
  if (!response) {
    (void)response.error().error();  // what the agent does with a rejection
    (void)response.error().retryable();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_chars(data, size);
  agent_request(input);
  edge_response(input);
  return 0;
}
