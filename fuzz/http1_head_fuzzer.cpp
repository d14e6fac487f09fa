// Public HTTP/1.1 request heads, as edge/request_head_reader.cpp reads them:
// RawHeadScanner over the bytes received so far (growing in pieces), then,
// once the head is complete, Beast parses exactly the head and
// validate_request_head() checks it.
//
// Input: one control byte, then the bytes the client sends.
//   bits 0-1, 2-6  piece sizes (fuzz_support.hpp)
//   bit 7          small limits (512-byte head, 8 fields, 1000-byte body)
//                  instead of the defaults, to reach the 431/413 paths
// Checked: the incremental scan ends in the same state as one scan of the
// same bytes, and a complete head ends with CRLF CRLF.
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/asio.hpp"
#include "fuzz_support.hpp"
#include "http1/request_validation.hpp"

using namespace dialback;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view input = fuzz::as_chars(data + 1, size - 1);

  http1::RequestLimits limits;  // the edge's defaults (public.max_header_bytes, ...)
  if ((control & 0x80) != 0) {
    limits.max_header_bytes = 512;
    limits.max_header_fields = 8;
    limits.max_body_bytes = 1000;
  }

  http1::RawHeadScanner scanner(limits);
  fuzz::PieceSizes pieces(control, input.size());
  std::size_t received = 0;
  auto state = http1::RawHeadScanner::State::need_more;
  while (received < input.size() && state == http1::RawHeadScanner::State::need_more) {
    received += pieces.next(input.size() - received);
    state = scanner.scan(input.substr(0, received));
  }

  http1::RawHeadScanner whole(limits);
  fuzz::check(whole.scan(input.substr(0, received)) == state,
              "RawHeadScanner: pieces and whole end in different states");
  if (state != http1::RawHeadScanner::State::complete) return 0;
  const std::size_t head_size = scanner.head_size();
  fuzz::check(whole.head_size() == head_size,
              "RawHeadScanner: pieces and whole differ in head_size");
  fuzz::check(
      head_size >= 5 && head_size <= received && input.substr(head_size - 4, 4) == "\r\n\r\n",
      "RawHeadScanner: a complete head does not end with CRLF CRLF");

  // As read_request_head(): Beast gets exactly the scanned head.
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(head_size));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // http1::kNoBodyLimit
  error_code ec;
  const std::size_t used = parser.put(asio::const_buffer(input.data(), head_size), ec);
  if (ec || used != head_size || !parser.is_header_done()) return 0;  // the edge answers 400

  auto target = http1::validate_request_head(parser.get(), limits);
  if (target) parser.get().target(*target);
  return 0;
}
