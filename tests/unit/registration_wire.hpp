// Beast serialization and parsing helpers shared by the registration tests:
// every message under test crosses a real HTTP/1.1 wire format.
#pragma once

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/asio.hpp"

namespace dialback::test {

template <class Message>
std::string serialize(const Message& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

// Parses `wire` with Beast as a peer would; fails the test if it does not parse.
template <class Parser>
auto parse_wire(const std::string& wire) {
  Parser parser;
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = parser.put(asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << wire;
  if (!parser.is_done() && !ec) {
    parser.put_eof(ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(used, wire.size());
  return parser.release();
}

inline http::request<http::empty_body> parse_request_wire(const std::string& wire) {
  return parse_wire<http::request_parser<http::empty_body>>(wire);
}

inline http::response<http::string_body> parse_response_wire(const std::string& wire) {
  return parse_wire<http::response_parser<http::string_body>>(wire);
}

}  // namespace dialback::test
