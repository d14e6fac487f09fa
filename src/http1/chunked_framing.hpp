// ChunkedFraming: checks the framing of a chunked body (RFC 9112 §7.1) on the
// raw bytes as they arrive, before Beast parses them. Beast 1.74 finds chunk
// lines by CRLF only: with bare LF line ends ("5\nhello\n0\n\n") it waits
// for a CRLF that never comes, so the edge would hold the client (and the
// tunnel stream) until a timeout. This scanner refuses bare LF, a CR not
// followed by LF, a missing CRLF after chunk data, a chunk size that is not
// hex or does not fit 64 bits, control bytes in chunk extensions, and chunk
// lines or trailer sections over their limits — at the byte that breaks the
// rule. What it accepts, Beast parses (and validates further).
//
// Pure; one per chunked message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dialback::http1 {

class ChunkedFraming {
 public:
  static constexpr std::size_t kMaxChunkLine = 4096;  // size + extensions

  explicit ChunkedFraming(std::size_t max_trailer_bytes = 64u << 10)
      : max_trailer_bytes_(max_trailer_bytes) {}

  // Scans the next bytes of the message. Returns how many belong to it (all
  // of them, or fewer once the last CRLF was seen: the rest is the next
  // message). After an error (error() non-empty) returns 0.
  std::size_t scan(std::string_view bytes);

  bool done() const { return state_ == State::done; }
  // Why the framing is invalid; empty while it is valid.
  std::string_view error() const { return error_; }

 private:
  enum class State {
    size,       // chunk-size digits
    extension,  // after the digits, up to CR
    size_lf,    // CR seen at the end of a chunk line
    data,       // chunk-data: remaining_ bytes
    data_cr,    // CR after chunk-data
    data_lf,
    trailer_start,  // start of a trailer line or of the final CRLF
    trailer,        // inside a trailer field line
    trailer_lf,
    final_lf,
    done,
    failed,
  };

  std::size_t fail(const char* reason);  // 0, after recording the error

  State state_ = State::size;
  std::size_t max_trailer_bytes_;
  std::uint64_t remaining_ = 0;  // of the chunk being sized, then of its data
  std::size_t digits_ = 0;
  std::size_t line_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
  const char* error_ = "";
};

}  // namespace dialback::http1
