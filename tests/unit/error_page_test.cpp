// The edge's one mapping from a tunnel failure to the public answer
// (edge/error_page.hpp), from a table: status, page text and access-log
// reason per error, for both public protocols.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "edge/error_page.hpp"

namespace dialback::edge {
namespace {

struct Row {
  std::error_code error;
  http::status status;
  const char* page;
  const char* reason;
};

TEST(ErrorPageTest, TunnelFailures) {
  const Row rows[] = {
      {Error::timeout, http::status::gateway_timeout,
       "dialback edge: the agent did not answer in time", "timeout"},
      {Error::limit_exceeded, http::status::payload_too_large,
       "dialback edge: request body larger than public.max_body_bytes",
       "rejected: body over the limit"},
      {Error::header_limit, http::status::bad_gateway,
       "dialback edge: the agent's response was refused (headers too large)",
       "refused-response: header block over agents.max_response_header_bytes"},
      {Error::stream_invalid, http::status::bad_gateway,
       "dialback edge: the agent's response was refused (invalid)",
       "refused-response: invalid HTTP/2 from the agent"},
      {Error::stream_reset, http::status::bad_gateway, "dialback edge: the agent reset the request",
       "agent-reset"},
      {Error::stream_refused, http::status::bad_gateway,
       "dialback edge: the agent reset the request", "agent-reset"},
      {Error::cancelled, http::status::bad_gateway, "dialback edge: the request was cancelled",
       "client-gone"},
      {Error::session_closed, http::status::bad_gateway,
       "dialback edge: the tunnel to the agent failed", "agent-session-ended (session closed)"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.error.message());
    const TunnelFailure failure = describe_tunnel_failure(row.error);
    EXPECT_EQ(failure.status, row.status);
    EXPECT_EQ(failure.page, row.page);
    EXPECT_EQ(failure.reason, row.reason);
  }
}

TEST(ErrorPageTest, RelayFailureReasons) {
  EXPECT_EQ(relay_failure_reason(Error::stream_reset), "agent-reset");
  const std::error_code socket_error = std::make_error_code(std::errc::connection_reset);
  EXPECT_EQ(relay_failure_reason(socket_error), "client-gone (" + socket_error.message() + ")");
}

}  // namespace
}  // namespace dialback::edge
