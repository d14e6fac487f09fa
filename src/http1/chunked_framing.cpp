#include "http1/chunked_framing.hpp"

#include <algorithm>

namespace dialback::http1 {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Bytes allowed in chunk extensions and trailer lines: visible ASCII,
// obs-text, space and tab; no other control byte.
bool line_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

std::size_t ChunkedFraming::fail(const char* reason) {
  state_ = State::failed;
  error_ = reason;
  return 0;
}

std::size_t ChunkedFraming::scan(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i];
    switch (state_) {
      case State::size: {
        const int digit = hex_value(c);
        if (digit >= 0) {
          if (++digits_ > 16) return fail("chunk size does not fit 64 bits");
          remaining_ = remaining_ << 4 | static_cast<unsigned>(digit);
        } else if (digits_ == 0) {
          return fail("chunk size is not a hex number");
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::extension;
        } else if (c == '\n') {
          return fail("bare LF after the chunk size");
        } else {
          return fail("chunk size is not a hex number");
        }
        break;
      }
      case State::extension:
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          return fail("bare LF in a chunk line");
        } else if (!line_byte(c)) {
          return fail("control byte in a chunk extension");
        }
        break;
      case State::size_lf:
        if (c != '\n') return fail("CR without LF in a chunk line");
        line_bytes_ = 0;
        digits_ = 0;
        state_ = remaining_ == 0 ? State::trailer_start : State::data;
        ++i;
        continue;
      case State::data: {
        const std::uint64_t n = std::min<std::uint64_t>(remaining_, bytes.size() - i);
        remaining_ -= n;
        i += static_cast<std::size_t>(n);
        if (remaining_ == 0) state_ = State::data_cr;
        continue;
      }
      case State::data_cr:
        if (c != '\r') return fail("chunk data not followed by CRLF");
        state_ = State::data_lf;
        break;
      case State::data_lf:
        if (c != '\n') return fail("chunk data not followed by CRLF");
        state_ = State::size;
        break;
      case State::trailer_start:
        if (c == '\r') {
          state_ = State::final_lf;
        } else if (c == '\n') {
          return fail("bare LF in the trailer section");
        } else if (!line_byte(c)) {
          return fail("control byte in a trailer field");
        } else {
          state_ = State::trailer;
        }
        break;
      case State::trailer:
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (c == '\n') {
          return fail("bare LF in the trailer section");
        } else if (!line_byte(c)) {
          return fail("control byte in a trailer field");
        }
        break;
      case State::trailer_lf:
        if (c != '\n') return fail("CR without LF in the trailer section");
        state_ = State::trailer_start;
        break;
      case State::final_lf:
        if (c != '\n') return fail("CR without LF at the end of the chunked body");
        state_ = State::done;
        return i + 1;
      case State::done: return i;
      case State::failed: return 0;
    }
    // Chunk lines and trailer sections are bounded: nothing buffers without limit.
    if (state_ == State::size || state_ == State::extension || state_ == State::size_lf) {
      if (++line_bytes_ > kMaxChunkLine) return fail("chunk line too long");
    } else if (state_ == State::trailer_start || state_ == State::trailer ||
               state_ == State::trailer_lf || state_ == State::final_lf) {
      if (++trailer_bytes_ > max_trailer_bytes_) return fail("trailer section too large");
    }
    ++i;
  }
  return state_ == State::failed ? 0 : i;
}

}  // namespace dialback::http1
