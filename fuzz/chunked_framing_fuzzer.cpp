// ChunkedFraming, differential: the same bytes scanned whole and in pieces
// (as reads arrive) must give the same verdict: error() (same reason),
// done(), and, when done, the same number of bytes belonging to the body.
//
// Input: one control byte, then the chunked body (and whatever follows it).
//   bits 0-1, 2-6  piece sizes (fuzz_support.hpp)
//   bit 7          a 16-byte trailer limit instead of the default 64 KiB
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "http1/chunked_framing.hpp"

using namespace dialback;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view input = fuzz::as_chars(data + 1, size - 1);
  const std::size_t max_trailer_bytes = (control & 0x80) != 0 ? 16 : 64u << 10;

  http1::ChunkedFraming whole(max_trailer_bytes);
  const std::size_t whole_used = whole.scan(input);

  // As a body pump: scan each read until the body is done or invalid.
  http1::ChunkedFraming framing(max_trailer_bytes);
  fuzz::PieceSizes pieces(control, input.size());
  std::size_t offset = 0;
  std::size_t used = 0;
  while (offset < input.size() && !framing.done() && framing.error().empty()) {
    const std::size_t n = pieces.next(input.size() - offset);
    const std::size_t took = framing.scan(input.substr(offset, n));
    fuzz::check(took <= n, "ChunkedFraming: scan() took more than it was given");
    fuzz::check(framing.error().empty() || took == 0, "ChunkedFraming: took bytes after an error");
    fuzz::check(framing.done() || !framing.error().empty() || took == n,
                "ChunkedFraming: a valid, unfinished body left bytes unscanned");
    used += took;
    offset += n;
  }

  fuzz::check(whole.error() == framing.error(),
              "ChunkedFraming: whole and pieces differ in error()");
  fuzz::check(whole.done() == framing.done(), "ChunkedFraming: whole and pieces differ in done()");
  if (whole.error().empty()) {
    fuzz::check(whole_used == used, "ChunkedFraming: whole and pieces differ in bytes used");
    fuzz::check(whole.done() || whole_used == input.size(),
                "ChunkedFraming: a valid, unfinished body left bytes unscanned");
  } else {
    fuzz::check(whole_used == 0, "ChunkedFraming: scan() returned bytes with an error");
  }
  return 0;
}
