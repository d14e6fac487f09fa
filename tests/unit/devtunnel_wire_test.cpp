// The DevTunnel wire's conversions (transport/devtunnel/devtunnel_wire.hpp)
// and its status page (edge/devtunnel_status_page.hpp).
#include <gtest/gtest.h>

#include <regex>

#include "edge/devtunnel_status_page.hpp"
#include "transport/devtunnel/devtunnel_wire.hpp"

namespace dialback::devtunnel {
namespace {

RequestHead head_of(std::string method, std::string path) {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "http";
  head.authority = "public.example.test:9000";
  head.path = std::move(path);
  head.headers = {{"accept", "*/*"}, {"x-request-id", "abc"}, {"transfer-encoding", "chunked"}};
  return head;
}

TEST(DevTunnelWire, ARequestTravelsAsRawHttp11WithALengthAndClose) {
  const std::string raw = raw_request(head_of("POST", "/form?a=1"), "x=1&y=2");
  EXPECT_EQ(raw,
            "POST /form?a=1 HTTP/1.1\r\n"
            "Host: public.example.test:9000\r\n"
            "accept: */*\r\n"
            "x-request-id: abc\r\n"
            "Content-Length: 7\r\n"
            "Connection: close\r\n"
            "\r\n"
            "x=1&y=2");
  EXPECT_EQ(request_line(head_of("GET", "/")), "GET / HTTP/1.1");
}

TEST(DevTunnelWire, ResponsesAreFramedHoweverTheAppFramedThem) {
  struct Case {
    const char* what;
    std::string raw;
    std::string method;
    int status;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"until the end", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", "GET", 200,
       "hello"},
      {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "GET", 200, "abc"},
      {"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       "POST", 201, "abc"},
      {"HTTP/1.0", "HTTP/1.0 404 Not Found\r\n\r\nnope", "GET", 404, "nope"},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD", 200, ""},
      {"no content", "HTTP/1.1 204 No Content\r\n\r\n", "DELETE", 204, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto parsed = parse_raw_response(c.raw, c.method, 1 << 20);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(parsed->head.status, c.status);
    EXPECT_EQ(parsed->body, c.body);
    const auto length = find_header(parsed->head.headers, "content-length");
    if (c.method == "HEAD" || c.status == 204) {
      EXPECT_FALSE(length.has_value());
    } else {
      EXPECT_EQ(length, std::to_string(c.body.size()));
    }
    EXPECT_FALSE(find_header(parsed->head.headers, "transfer-encoding").has_value());
  }
}

TEST(DevTunnelWire, UnusableResponsesAreRefusedWithAReason) {
  EXPECT_FALSE(parse_raw_response("", "GET", 1024).has_value());
  EXPECT_FALSE(parse_raw_response("hello world\r\n\r\n", "GET", 1024).has_value());
  EXPECT_FALSE(parse_raw_response("HTTP/1.1 200 OK\r\nContent-Le", "GET", 1024).has_value());
  const auto cut =
      parse_raw_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "GET", 1024);
  ASSERT_FALSE(cut.has_value());
  EXPECT_NE(cut.error().find("cut short"), std::string::npos) << cut.error();
  const std::string big = "HTTP/1.1 200 OK\r\n\r\n" + std::string(2048, 'x');
  EXPECT_FALSE(parse_raw_response(big, "GET", 1024).has_value());
}

TEST(DevTunnelWire, RequestIdsAreRandomUuids) {
  std::mt19937_64 random(42);
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::string first = new_request_id(random);
  EXPECT_TRUE(std::regex_match(first, uuid)) << first;
  EXPECT_NE(new_request_id(random), first);
}

TEST(DevTunnelWire, UserIdsArePrintableAscii) {
  EXPECT_TRUE(is_valid_user_id("thijs@fizzgig:3001#1666973349"));
  EXPECT_FALSE(is_valid_user_id(""));
  EXPECT_FALSE(is_valid_user_id("tab\there"));
  EXPECT_FALSE(is_valid_user_id(std::string(257, 'a')));
  EXPECT_FALSE(is_valid_user_id("caf\xc3\xa9"));
}

TEST(DevTunnelStatusPage, ActiveUsersFirstAndEverythingEscaped) {
  const auto now = std::chrono::system_clock::now();
  std::vector<edge::DevTunnelUserRow> rows(3);
  rows[0] = {"zed", 9001, 0, 0, 1, 4, 0, now, now, true};
  rows[1] = {"<script>", 9002, 2, 1, 0, 7, 1, now, now - std::chrono::minutes(5), false};
  rows[2] = {"amy", 9000, 0, 0, 1, 0, 0, now, now, true};
  const std::string html = edge::devtunnel_status_page(rows);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  const auto amy = html.find("<td>amy</td>");
  const auto zed = html.find("<td>zed</td>");
  const auto script = html.find("<td>&lt;script&gt;</td>");
  ASSERT_NE(amy, std::string::npos);
  ASSERT_NE(script, std::string::npos);
  EXPECT_LT(amy, zed);
  EXPECT_LT(zed, script);
  EXPECT_NE(html.find("<td>9002</td><td>2</td><td>1</td>"), std::string::npos);
}

}  // namespace
}  // namespace dialback::devtunnel
