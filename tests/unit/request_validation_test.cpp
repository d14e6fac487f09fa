// The edge's request checks, from tables: RawHeadScanner on raw bytes, then
// Beast's parser, then validate_request_head() -- the same pipeline the edge
// runs (src/edge/request_head_reader.cpp), without sockets.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "http1/body_pump.hpp"
#include "http1/request_validation.hpp"

namespace dialback::http1 {
namespace {

struct Verdict {
  unsigned status = 0;  // 0: accepted
  std::string reason;   // rejection reason, or the target to forward when accepted
};

Verdict run_pipeline(std::string_view raw, const RequestLimits& limits) {
  RawHeadScanner scanner(limits);
  const auto state = scanner.scan(raw);
  if (state == RawHeadScanner::State::rejected) {
    return {static_cast<unsigned>(scanner.rejection().status), scanner.rejection().reason};
  }
  if (state == RawHeadScanner::State::need_more) return {1, "incomplete"};
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(scanner.head_size()));
  parser.body_limit(kNoBodyLimit);
  error_code ec;
  const std::size_t used = parser.put(asio::const_buffer(raw.data(), scanner.head_size()), ec);
  if (ec || used != scanner.head_size() || !parser.is_header_done()) {
    return {400, "beast: " + ec.message()};
  }
  auto target = validate_request_head(parser.get(), limits);
  if (!target) return {static_cast<unsigned>(target.error().status), target.error().reason};
  return {0, *target};
}

struct Case {
  const char* name;
  std::string raw;
  unsigned status;       // 0: accepted
  std::string expected;  // substring of the reason; the exact target when accepted
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string head(std::string_view request_line, std::string_view fields) {
  return std::string(request_line) + "\r\n" + std::string(fields) + "\r\n";
}

std::string many_fields(std::size_t n) {
  std::string fields = "Host: app.test\r\n";
  for (std::size_t i = 1; i < n; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  return fields;
}

RequestLimits test_limits() {
  RequestLimits limits;
  limits.max_body_bytes = 1000;
  return limits;
}

class RequestValidation : public testing::TestWithParam<Case> {};

TEST_P(RequestValidation, Pipeline) {
  const Case& c = GetParam();
  const Verdict verdict = run_pipeline(c.raw, test_limits());
  EXPECT_EQ(verdict.status, c.status) << verdict.reason;
  if (c.status == 0) {
    EXPECT_EQ(verdict.reason, c.expected);
  } else {
    EXPECT_NE(verdict.reason.find(c.expected), std::string::npos) << verdict.reason;
  }
}

// Scanning the same bytes one at a time gives the same answer.
TEST_P(RequestValidation, ByteByByteScanMatches) {
  const Case& c = GetParam();
  RawHeadScanner whole(test_limits());
  RawHeadScanner split(test_limits());
  const auto expected = whole.scan(c.raw);
  auto state = RawHeadScanner::State::need_more;
  for (std::size_t n = 1; n <= c.raw.size() && state == RawHeadScanner::State::need_more; ++n) {
    state = split.scan(std::string_view(c.raw).substr(0, n));
  }
  EXPECT_EQ(state, expected);
  if (expected == RawHeadScanner::State::complete) {
    EXPECT_EQ(split.head_size(), whole.head_size());
  }
  if (expected == RawHeadScanner::State::rejected) {
    EXPECT_EQ(split.rejection().reason, whole.rejection().reason);
  }
}

const std::string kHost = "Host: app.test\r\n";

INSTANTIATE_TEST_SUITE_P(
    Table, RequestValidation,
    testing::Values(
        // ---- accepted ----
        Case{"PlainGet", head("GET /a?b HTTP/1.1", kHost), 0, "/a?b"},
        Case{"ContentLength", head("POST / HTTP/1.1", kHost + "Content-Length: 5\r\n"), 0, "/"},
        Case{"Chunked", head("POST / HTTP/1.1", kHost + "Transfer-Encoding: chunked\r\n"), 0, "/"},
        Case{"ChunkedUpperCase", head("POST / HTTP/1.1", kHost + "Transfer-Encoding: CHUNKED\r\n"),
             0, "/"},
        // Legal OWS around the value is stripped (RFC 9110 §5.5); the edge
        // re-frames the body, so no hop can read it differently.
        Case{"ChunkedWithOws",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding: \t chunked \r\n"), 0, "/"},
        Case{"AbsoluteFormSameHost", head("GET http://app.test/x?y HTTP/1.1", kHost), 0, "/x?y"},
        Case{"AbsoluteFormCaseInsensitive", head("GET HTTPS://APP.test HTTP/1.1", kHost), 0, "/"},
        Case{"AbsoluteFormQueryOnly", head("GET http://app.test?q=1 HTTP/1.1", kHost), 0, "/?q=1"},
        Case{"AsteriskOptions", head("OPTIONS * HTTP/1.1", kHost), 0, "*"},
        Case{"Http10WithoutHost", head("GET / HTTP/1.0", ""), 0, "/"},
        Case{"ObsTextValue", head("GET / HTTP/1.1", kHost + "X-Name: caf\xc3\xa9\r\n"), 0, "/"},
        Case{"HostWithPort", head("GET / HTTP/1.1", "Host: app.test:8080\r\n"), 0, "/"},
        Case{"HundredFields", head("GET / HTTP/1.1", many_fields(100)), 0, "/"},
        Case{"BodyAtLimit", head("POST / HTTP/1.1", kHost + "Content-Length: 1000\r\n"), 0, "/"},
        // ---- framing: request smuggling ----
        Case{"ClThenTe",
             head("POST / HTTP/1.1", kHost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
             400, "Transfer-Encoding"},
        Case{"TeThenCl",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
             400, "Content-Length"},
        Case{
            "TeIdentityWithCl",
            head("POST / HTTP/1.1", kHost + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n"),
            400, "both Transfer-Encoding and Content-Length"},
        Case{"TwoDifferentCl",
             head("POST / HTTP/1.1", kHost + "Content-Length: 5\r\nContent-Length: 6\r\n"), 400,
             "Content-Length"},
        Case{"TwoEqualCl",
             head("POST / HTTP/1.1", kHost + "Content-Length: 5\r\nContent-Length: 5\r\n"), 400,
             "more than one Content-Length"},
        Case{"ClList", head("POST / HTTP/1.1", kHost + "Content-Length: 5, 5\r\n"), 400,
             "invalid Content-Length"},
        Case{"ClNonDigit", head("POST / HTTP/1.1", kHost + "Content-Length: 5x\r\n"), 400,
             "Content-Length"},
        Case{"ClNegative", head("POST / HTTP/1.1", kHost + "Content-Length: -5\r\n"), 400,
             "Content-Length"},
        Case{"ClPlus", head("POST / HTTP/1.1", kHost + "Content-Length: +5\r\n"), 400,
             "Content-Length"},
        Case{"ClOverflow",
             head("POST / HTTP/1.1", kHost + "Content-Length: 99999999999999999999999\r\n"), 400,
             "Content-Length"},
        Case{"ClEmpty", head("POST / HTTP/1.1", kHost + "Content-Length: \r\n"), 400,
             "Content-Length"},
        Case{"TeChunkedIdentity",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding: chunked, identity\r\n"), 400,
             "other than \"chunked\""},
        Case{"TeXchunked", head("POST / HTTP/1.1", kHost + "Transfer-Encoding: xchunked\r\n"), 400,
             "other than \"chunked\""},
        Case{"TeGzipChunked",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding: gzip, chunked\r\n"), 400,
             "other than \"chunked\""},
        Case{"TeIdentity", head("POST / HTTP/1.1", kHost + "Transfer-Encoding: identity\r\n"), 400,
             "other than \"chunked\""},
        Case{"TeTwice",
             head("POST / HTTP/1.1",
                  kHost + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"),
             400, "more than one Transfer-Encoding"},
        Case{"TeInHttp10", head("POST / HTTP/1.0", kHost + "Transfer-Encoding: chunked\r\n"), 400,
             "HTTP/1.0"},
        Case{"TeSpaceBeforeColon",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding : chunked\r\n"), 400, "beast"},
        Case{"TeVerticalTab",
             head("POST / HTTP/1.1", kHost + "Transfer-Encoding: \x0b"
                                             "chunked\r\n"),
             400, "beast"},
        Case{"TeLeadingSpaceLine",
             head("POST / HTTP/1.1", kHost + " Transfer-Encoding: chunked\r\n"), 400, "obs-fold"},
        Case{"TeObsFold", head("POST / HTTP/1.1", kHost + "Transfer-Encoding:\r\n chunked\r\n"),
             400, "obs-fold"},
        Case{"ClOverBodyLimit", head("POST / HTTP/1.1", kHost + "Content-Length: 1001\r\n"), 413,
             "larger than 1000"},
        // ---- malformed heads ----
        Case{"ObsFold", head("GET / HTTP/1.1", kHost + "X-A: b\r\n\tc\r\n"), 400, "obs-fold"},
        Case{"WhitespaceBeforeFirstField", head("GET / HTTP/1.1", " " + kHost), 400, "obs-fold"},
        Case{"BareLfEverywhere", "GET / HTTP/1.1\nHost: app.test\n\n", 400, "bare LF"},
        Case{"BareLfInFields", "GET / HTTP/1.1\r\nHost: app.test\nX: y\r\n\r\n", 400, "bare LF"},
        Case{"BareLfEndOfHead", "GET / HTTP/1.1\r\nHost: app.test\r\n\n", 400, "bare LF"},
        Case{"CrInValue", head("GET / HTTP/1.1", kHost + "X: a\rb\r\n"), 400,
             "CR not followed by LF"},
        Case{"NulInValue", head("GET / HTTP/1.1", kHost + std::string("X: a\0b\r\n", 8)), 400,
             "NUL"},
        Case{"EmptyFieldName", head("GET / HTTP/1.1", kHost + ": x\r\n"), 400, "beast"},
        Case{"SpaceInMethod", head("GE T / HTTP/1.1", kHost), 400, "beast"},
        Case{"EmptyRequestLine", "\r\nGET / HTTP/1.1\r\n" + kHost + "\r\n", 400,
             "empty request line"},
        Case{"TwoHosts", head("GET / HTTP/1.1", kHost + "Host: other.test\r\n"), 400,
             "more than one Host"},
        Case{"MissingHost", head("GET / HTTP/1.1", "X: y\r\n"), 400, "missing Host"},
        Case{"HostWithSpace", head("GET / HTTP/1.1", "Host: app.test x\r\n"), 400, "invalid Host"},
        Case{"HostWithUserinfo", head("GET / HTTP/1.1", "Host: u@app.test\r\n"), 400,
             "invalid Host"},
        Case{"AbsoluteFormOtherHost", head("GET http://evil.test/ HTTP/1.1", kHost), 400,
             "other than Host"},
        Case{"AbsoluteFormOtherPort", head("GET http://app.test:81/ HTTP/1.1", kHost), 400,
             "other than Host"},
        Case{"AbsoluteFormUserinfo", head("GET http://u@app.test/ HTTP/1.1", kHost), 400,
             "userinfo"},
        Case{"OtherScheme", head("GET ftp://app.test/ HTTP/1.1", kHost), 400,
             "invalid request target"},
        Case{"AuthorityForm", head("CONNECT app.test:443 HTTP/1.1", kHost), 400,
             "invalid request target"},
        Case{"AsteriskWithGet", head("GET * HTTP/1.1", kHost), 400, "OPTIONS"},
        // ---- limits ----
        Case{"TooManyFields", head("GET / HTTP/1.1", many_fields(101)), 431,
             "more than 100 header fields"},
        Case{"HeadTooLarge",
             head("GET / HTTP/1.1", kHost + "X-Big: " + std::string(65 << 10, 'a') + "\r\n"), 431,
             "larger than 65536 bytes"}),
    [](const testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(RawHeadScanner, IncompleteHeadNeedsMore) {
  RawHeadScanner scanner({});
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: a\r\n"), RawHeadScanner::State::need_more);
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: a\r\n\r"), RawHeadScanner::State::need_more);
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"), RawHeadScanner::State::complete);
  EXPECT_EQ(scanner.head_size(), 27u);  // the body is not part of the head
}

TEST(RawHeadScanner, HeadOfExactlyTheLimitIsAccepted) {
  const std::string base = "GET / HTTP/1.1\r\nX: \r\n\r\n";
  RequestLimits limits;
  limits.max_header_bytes = 1024;
  const std::string exact =
      "GET / HTTP/1.1\r\nX: " + std::string(1024 - base.size(), 'a') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 1024u);
  RawHeadScanner fits(limits);
  EXPECT_EQ(fits.scan(exact), RawHeadScanner::State::complete);
  RawHeadScanner over(limits);
  const std::string longer = "GET / HTTP/1.1\r\nX: a" + exact.substr(19);
  ASSERT_EQ(longer.size(), 1025u);
  EXPECT_EQ(over.scan(longer), RawHeadScanner::State::rejected);
  EXPECT_EQ(over.rejection().status, http::status::request_header_fields_too_large);
}

TEST(RawHeadScanner, FieldLimitIsConfigurable) {
  RequestLimits limits;
  limits.max_header_fields = 2;
  RawHeadScanner scanner(limits);
  EXPECT_EQ(scanner.scan("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
            RawHeadScanner::State::rejected);
  EXPECT_EQ(scanner.rejection().status, http::status::request_header_fields_too_large);
}

TEST(ValidateRequestHead, BodyLimitZeroMeansUnlimited) {
  const std::string raw = head("POST / HTTP/1.1", kHost + "Content-Length: 99999999999\r\n");
  EXPECT_EQ(run_pipeline(raw, RequestLimits{}).status, 0u);
}

}  // namespace
}  // namespace dialback::http1
