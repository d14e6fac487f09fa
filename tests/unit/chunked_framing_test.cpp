// ChunkedFraming: chunk framing checked on raw bytes, from tables; every
// case is also fed one byte at a time (the scanner keeps its state between
// reads).
#include <gtest/gtest.h>

#include <string>

#include "http1/chunked_framing.hpp"

namespace dialback::http1 {
namespace {

struct FramingCase {
  std::string bytes;
  bool valid;           // no error over all the bytes
  bool done;            // the last CRLF was seen
  std::size_t message;  // bytes that belong to the message (valid cases)
};

std::string with_next(const std::string& body) { return body + "GET /next HTTP/1.1\r\n"; }

const FramingCase kCases[] = {
    {"5\r\nhello\r\n0\r\n\r\n", true, true, 15},
    {"5;ext=1\r\nhello\r\n0\r\n\r\n", true, true, 21},
    {"5 ; ext\r\nhello\r\n0\r\n\r\n", true, true, 21},
    {"A\r\n0123456789\r\n0\r\n\r\n", true, true, 20},
    {"0\r\nExpires: never\r\n\r\n", true, true, 21},
    {"000\r\n\r\n", true, true, 7},
    {"5\r\nhel", true, false, 6},                        // incomplete: more to come
    {with_next("1\r\nx\r\n0\r\n\r\n"), true, true, 11},  // the rest is the next request
    {"5\nhello\n0\n\n", false, false, 0},                // bare LF (the reported hang)
    {"5\r\nhello\n0\r\n\r\n", false, false, 0},          // data not followed by CRLF
    {"5\r\nhelloX\r\n", false, false, 0},
    {"5\rhello", false, false, 0},  // CR without LF
    {"zz\r\n", false, false, 0},
    {"\r\n", false, false, 0},  // no size
    {"-1\r\n", false, false, 0},
    {"0x5\r\n", false, false, 0},
    {"12345678901234567\r\n", false, false, 0},  // over 64 bits
    {"5;a\x01\r\n", false, false, 0},            // control byte in an extension
    {"5;a\rb\r\n", false, false, 0},             // bare CR in an extension
    {"0\r\nX: y\n\r\n", false, false, 0},        // bare LF in a trailer
    {"0\r\n\n", false, false, 0},
    {"0\r\n\r\r", false, false, 0},
    {"0\r\nX: \x7f\r\n\r\n", false, false, 0},
};

TEST(ChunkedFramingTest, WholeInput) {
  for (const auto& c : kCases) {
    ChunkedFraming framing;
    const std::size_t used = framing.scan(c.bytes);
    EXPECT_EQ(framing.error().empty(), c.valid) << c.bytes << ": " << framing.error();
    EXPECT_EQ(framing.done(), c.done) << c.bytes;
    if (c.valid) EXPECT_EQ(used, c.message) << c.bytes;
  }
}

TEST(ChunkedFramingTest, ByteByByte) {
  for (const auto& c : kCases) {
    ChunkedFraming framing;
    std::size_t used = 0;
    for (char byte : c.bytes) used += framing.scan(std::string_view(&byte, 1));
    EXPECT_EQ(framing.error().empty(), c.valid) << c.bytes;
    EXPECT_EQ(framing.done(), c.done) << c.bytes;
    if (c.valid) EXPECT_EQ(used, c.message) << c.bytes;
  }
}

TEST(ChunkedFramingTest, LinesAndTrailersAreBounded) {
  ChunkedFraming long_line;
  long_line.scan("5;" + std::string(ChunkedFraming::kMaxChunkLine, 'a'));
  EXPECT_EQ(long_line.error(), "chunk line too long");

  ChunkedFraming big_trailers(/*max_trailer_bytes=*/100);
  big_trailers.scan("0\r\n");
  for (int i = 0; i < 20; ++i) big_trailers.scan("X-Field: value\r\n");
  EXPECT_EQ(big_trailers.error(), "trailer section too large");

  ChunkedFraming large_data;  // a large chunk is not a long line
  EXPECT_EQ(large_data.scan("100000\r\n"), 8u);
  EXPECT_EQ(large_data.scan(std::string(0x100000, 'x')), 0x100000u);
  EXPECT_TRUE(large_data.error().empty());
  EXPECT_EQ(large_data.scan("\r\n0\r\n\r\n"), 7u);
  EXPECT_TRUE(large_data.done());
}

TEST(ChunkedFramingTest, NothingAfterAnError) {
  ChunkedFraming framing;
  EXPECT_EQ(framing.scan("5\nhello"), 0u);
  EXPECT_EQ(framing.scan("\r\n0\r\n\r\n"), 0u);
  EXPECT_FALSE(framing.done());
  EXPECT_EQ(framing.error(), "bare LF after the chunk size");
}

}  // namespace
}  // namespace dialback::http1
