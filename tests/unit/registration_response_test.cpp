#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/asio.hpp"
#include "core/error.hpp"
#include "registration_wire.hpp"
#include "tunnel/registration.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback {
namespace {

using test::parse_response_wire;
using test::serialize;

// ---- responses -------------------------------------------------------------

TEST(RegistrationResponse, AcceptRoundTrips) {
  const auto accept = build_registration_accept("edge-1", "web.example.test, :9000");
  EXPECT_EQ(accept.result(), http::status::switching_protocols);
  EXPECT_EQ(accept[http::field::connection], "Upgrade");
  EXPECT_EQ(accept[http::field::upgrade], "ptth");
  EXPECT_EQ(accept["ALPN"], "h2");

  const auto parsed = parse_registration_response(parse_response_wire(serialize(accept)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, (RegistrationAccepted{"edge-1", "web.example.test, :9000"}));
}

TEST(RegistrationResponse, SwitchingWithoutPtthIsAProtocolError) {
  const std::vector<std::string> wires = {
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ptth\r\nALPN: h3\r\n\r\n",
  };
  for (const auto& wire : wires) {
    const auto parsed = parse_registration_response(parse_response_wire(wire));
    ASSERT_FALSE(parsed.has_value()) << wire;
    EXPECT_EQ(parsed.error().status, 0);
    EXPECT_EQ(parsed.error().code, "protocol_error");
    EXPECT_EQ(parsed.error().error(), make_error_code(Error::protocol_error));
    EXPECT_FALSE(parsed.error().retryable());
  }
}

struct RejectRoundTrip {
  std::string name;
  RegistrationRejection rejection;
  Error error;
  bool retryable;
};

void PrintTo(const RejectRoundTrip& c, std::ostream* os) { *os << c.name; }

class RegistrationRejectRoundTrip : public ::testing::TestWithParam<RejectRoundTrip> {};

TEST_P(RegistrationRejectRoundTrip, BuildsAndParses) {
  const RegistrationRejection& sent = GetParam().rejection;
  const auto response = build_registration_reject(sent);
  EXPECT_EQ(response.result_int(), static_cast<unsigned>(sent.status));
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::connection], "close");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(response.count(http::field::www_authenticate), sent.status == 401 ? 1u : 0u);
  if (sent.status == 401) {
    EXPECT_EQ(response[http::field::www_authenticate], R"(Bearer realm="dialback")");
  }
  EXPECT_EQ(response.count(http::field::retry_after), sent.retry_after_seconds ? 1u : 0u);

  const auto parsed = parse_registration_response(parse_response_wire(serialize(response)));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error(), sent);
  EXPECT_EQ(parsed.error().error(), make_error_code(GetParam().error));
  EXPECT_EQ(parsed.error().retryable(), GetParam().retryable);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RegistrationRejectRoundTrip,
    ::testing::Values(
        RejectRoundTrip{"bad_request", RegistrationRejection::bad_request("Dialback-Node missing"),
                        Error::bad_request, false},
        RejectRoundTrip{"unauthorized", RegistrationRejection::unauthorized("token expired"),
                        Error::unauthorized, false},
        RejectRoundTrip{"forbidden", RegistrationRejection::forbidden("not for tenant acme"),
                        Error::forbidden, false},
        RejectRoundTrip{"unknown_tunnel", RegistrationRejection::unknown_tunnel("no tunnel"),
                        Error::unknown_tunnel, false},
        RejectRoundTrip{"too_many_sessions",
                        RegistrationRejection::too_many_sessions("limit 8 reached", 5),
                        Error::too_many_sessions, true},
        RejectRoundTrip{"draining", RegistrationRejection::draining("edge restarting", 30),
                        Error::draining, true},
        RejectRoundTrip{"draining_without_retry",
                        RegistrationRejection::draining("edge restarting", std::nullopt),
                        Error::draining, true},
        RejectRoundTrip{"quotes_and_unicode",
                        RegistrationRejection::bad_request("bad \"value\"\n\u00e9\\"),
                        Error::bad_request, false}),
    [](const ::testing::TestParamInfo<RejectRoundTrip>& info) { return info.param.name; });

TEST(RegistrationResponse, RejectClampsInvalidStatusAndBadUtf8) {
  const auto response = build_registration_reject({42, "weird", "bad \xff byte", std::nullopt});
  EXPECT_EQ(response.result_int(), 500u);
  const auto parsed = parse_registration_response(parse_response_wire(serialize(response)));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().status, 500);
  EXPECT_EQ(parsed.error().code, "weird");
  EXPECT_EQ(parsed.error().message, "bad \xef\xbf\xbd byte");  // U+FFFD
}

// Answers from something that is not a dialback edge (a proxy, a web server).
struct ForeignCase {
  std::string name;
  std::string wire;
  int status;
  std::string code;
  std::string message;
  std::optional<int> retry_after;
};

void PrintTo(const ForeignCase& c, std::ostream* os) { *os << c.name; }

class RegistrationForeignResponse : public ::testing::TestWithParam<ForeignCase> {};

TEST_P(RegistrationForeignResponse, BecomesARejection) {
  const ForeignCase& c = GetParam();
  const auto parsed = parse_registration_response(parse_response_wire(c.wire));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error(),
            (RegistrationRejection{c.status, c.code, c.message, c.retry_after}));
}

std::string wire_with_body(std::string head, const std::string& body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RegistrationForeignResponse,
    ::testing::Values(
        ForeignCase{"html_body",
                    wire_with_body("HTTP/1.1 502 Bad Gateway\r\n", "  <h1>upstream down</h1>\n"),
                    502, "http_error", "<h1>upstream down</h1>", std::nullopt},
        ForeignCase{"empty_body_uses_reason",
                    wire_with_body("HTTP/1.1 404 Nothing Here\r\n", ""), 404, "http_error",
                    "Nothing Here", std::nullopt},
        ForeignCase{"empty_reason_uses_standard_phrase",
                    wire_with_body("HTTP/1.1 403 \r\n", ""), 403, "http_error", "Forbidden",
                    std::nullopt},
        ForeignCase{"long_body_truncated",
                    wire_with_body("HTTP/1.1 500 Oops\r\n", std::string(500, 'x')), 500,
                    "http_error", std::string(200, 'x'), std::nullopt},
        ForeignCase{"truncation_keeps_utf8_whole",
                    wire_with_body("HTTP/1.1 500 Oops\r\n",
                                   std::string(199, 'x') + "\xc3\xa9" + "tail"),
                    500, "http_error", std::string(199, 'x'), std::nullopt},
        ForeignCase{"json_without_message_uses_reason",
                    wire_with_body("HTTP/1.1 429 Slow Down\r\nRetry-After: 7\r\n",
                                   R"({"error":"rate_limited"})"),
                    429, "rate_limited", "Slow Down", 7},
        ForeignCase{"json_array_is_text",
                    wire_with_body("HTTP/1.1 400 Bad\r\n", "[1,2]"), 400, "http_error", "[1,2]",
                    std::nullopt},
        ForeignCase{"retry_after_http_date_ignored",
                    wire_with_body("HTTP/1.1 503 Busy\r\n"
                                   "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n",
                                   ""),
                    503, "http_error", "Busy", std::nullopt},
        ForeignCase{"retry_after_negative_ignored",
                    wire_with_body("HTTP/1.1 503 Busy\r\nRetry-After: -5\r\n", ""), 503,
                    "http_error", "Busy", std::nullopt},
        ForeignCase{"retry_after_overflow_ignored",
                    wire_with_body("HTTP/1.1 503 Busy\r\nRetry-After: 99999999999999\r\n", ""),
                    503, "http_error", "Busy", std::nullopt},
        ForeignCase{"ok_is_not_an_upgrade",
                    wire_with_body("HTTP/1.1 200 OK\r\nUpgrade: ptth\r\n", "hello"), 200,
                    "http_error", "hello", std::nullopt}),
    [](const ::testing::TestParamInfo<ForeignCase>& info) { return info.param.name; });

}  // namespace
}  // namespace dialback
