// parse_request_fields / parse_response_fields: pseudo-headers into the head, regular
// fields kept in their order, malformed blocks refused.
#include "transport/h2/h2_headers.hpp"
#include "tunnel/pseudo_headers.hpp"

#include <gtest/gtest.h>

namespace dialback::h2 {
namespace {

TEST(H2Headers, RequestPseudoHeadersLeaveRegularFieldsInOrder) {
  HeaderList fields = {{":method", "GET"},
                       {":scheme", "https"},
                       {":authority", "app.example.test"},
                       {":path", "/a/long/enough/path?to=leave&the=small&string=buffer"},
                       {"accept", "text/html"},
                       {"x-one", "1"},
                       {"x-two", "a value longer than the small-string buffer"},
                       {"x-three", "3"}};
  auto head = parse_request_fields(std::move(fields));
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->method, "GET");
  EXPECT_EQ(head->scheme, "https");
  EXPECT_EQ(head->authority, "app.example.test");
  EXPECT_EQ(head->path, "/a/long/enough/path?to=leave&the=small&string=buffer");
  EXPECT_TRUE(head->protocol.empty());
  ASSERT_EQ(head->headers.size(), 4u);
  EXPECT_EQ(head->headers[0].name, "accept");
  EXPECT_EQ(head->headers[0].value, "text/html");
  EXPECT_EQ(head->headers[1].name, "x-one");
  EXPECT_EQ(head->headers[2].value, "a value longer than the small-string buffer");
  EXPECT_EQ(head->headers[3].name, "x-three");
}

TEST(H2Headers, ExtendedConnectKeepsProtocol) {
  auto head = parse_request_fields({{":method", "CONNECT"},
                             {":protocol", "websocket"},
                             {":scheme", "https"},
                             {":path", "/chat"},
                             {":authority", "a.test"}});
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->protocol, "websocket");
  EXPECT_TRUE(head->headers.empty());
}

TEST(H2Headers, MalformedRequestsAreRefused) {
  EXPECT_FALSE(parse_request_fields({{":path", "/"}, {"accept", "*/*"}}).has_value());  // no :method
  EXPECT_FALSE(parse_request_fields({{":method", "GET"}, {":status", "200"}}).has_value());
}

TEST(H2Headers, ResponseStatusLeavesRegularFieldsInOrder) {
  auto head = parse_response_fields({{":status", "204"},
                              {"content-type", "text/html; charset=utf-8"},
                              {"x-a", "1"},
                              {"x-b", "2"}});
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 204);
  ASSERT_EQ(head->headers.size(), 3u);
  EXPECT_EQ(head->headers[0].value, "text/html; charset=utf-8");
  EXPECT_EQ(head->headers[1].name, "x-a");
  EXPECT_EQ(head->headers[2].name, "x-b");
}

TEST(H2Headers, MalformedResponsesAreRefused) {
  EXPECT_FALSE(parse_response_fields({{"content-type", "text/plain"}}).has_value());  // no :status
  EXPECT_FALSE(parse_response_fields({{":status", "2x0"}}).has_value());
  EXPECT_FALSE(parse_response_fields({{":status", "99"}}).has_value());
  EXPECT_FALSE(parse_response_fields({{":status", "200"}, {":path", "/"}}).has_value());
}

}  // namespace
}  // namespace dialback::h2
