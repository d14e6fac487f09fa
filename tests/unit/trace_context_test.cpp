#include "http1/trace_context.hpp"

#include <set>

#include <gtest/gtest.h>

#include "core/asio.hpp"
#include "http1/header_translation.hpp"

namespace dialback::http1 {
namespace {

TEST(Traceparent, RecognisesValidAndInvalidValues) {
  EXPECT_TRUE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent(""));
  EXPECT_FALSE(is_valid_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(is_valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(is_valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
}

TEST(Traceparent, GeneratedValuesAreValidAndDistinct) {
  TraceparentGenerator generator(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string value = generator.next();
    ASSERT_TRUE(is_valid_traceparent(value)) << value;
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

RequestHead translate(const http::request_header<>& request, TraceparentGenerator& generator) {
  RequestHead head = tunnel_request_from(request);
  add_forwarding_headers(head, {"192.0.2.1", "http", "rid-1", &generator});
  return head;
}

TEST(Traceparent, KeptWhenPresentAndValid) {
  TraceparentGenerator generator(1);
  http::request_header<> request;
  request.method(http::verb::get);
  request.target("/");
  request.set(http::field::host, "app.test");
  request.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  request.set("tracestate", "vendor=1");
  const auto head = translate(request, generator);
  EXPECT_EQ(find_header(head.headers, "traceparent"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(find_header(head.headers, "tracestate"), "vendor=1");
}

TEST(Traceparent, CreatedWhenAbsentOrMalformed) {
  TraceparentGenerator generator(1);
  http::request_header<> request;
  request.method(http::verb::get);
  request.target("/");
  request.set(http::field::host, "app.test");
  const auto fresh = translate(request, generator);
  auto created = find_header(fresh.headers, "traceparent");
  ASSERT_TRUE(created);
  EXPECT_TRUE(is_valid_traceparent(*created));

  request.set("traceparent", "garbage");
  request.set("tracestate", "vendor=1");
  const auto head = translate(request, generator);
  auto replaced = find_header(head.headers, "traceparent");
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(is_valid_traceparent(*replaced));
  EXPECT_FALSE(find_header(head.headers, "tracestate"));
}

}  // namespace
}  // namespace dialback::http1
