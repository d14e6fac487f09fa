// What the edge refuses before a request reaches a tunnel (issue 3, "Public
// side"): request smuggling vectors and malformed or oversized heads.
//
// Beast 1.74 already rejects some of these (CL+chunked, different
// Content-Lengths, empty field names, spaces in the method, NUL and lone CR
// in values) but accepts others a careful proxy must refuse: equal duplicate
// Content-Lengths and "5, 5" lists, Transfer-Encoding other than exactly
// "chunked" (it then treats the body as empty, so the body bytes would be
// read as the next request), Transfer-Encoding: identity + Content-Length,
// repeated Transfer-Encoding or Host fields, obs-fold (it joins the lines),
// absolute-form targets naming another host. A head with only bare LF line
// endings is never recognised as complete by Beast (it waits for CRLF CRLF).
//
// Two pure checks, used in this order on every request:
//   1. RawHeadScanner, over the raw bytes as they arrive, before Beast parses:
//      line endings, obs-fold, NUL, field count and head size.
//   2. validate_request_head(), over the head Beast parsed: framing headers,
//      Host and the request target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/asio.hpp"

namespace dialback::http1 {

struct RequestLimits {
  std::size_t max_header_bytes = 64u << 10;  // request line + fields + the blank line
  std::size_t max_header_fields = 100;
  std::uint64_t max_body_bytes = 0;  // 0: unlimited
};

// Why a request is refused: the status to answer with (the connection is
// then closed) and a short reason for the error page and the log.
struct Rejection {
  http::status status = http::status::bad_request;
  std::string reason;
};

// Incremental raw-byte check of one request head. Feed it the bytes received
// so far for this request (from its first byte); each call may pass a longer
// view of the same bytes and scans only what is new. Rules:
//   - every line ends with CRLF: a bare LF or a CR not followed by LF -> 400;
//   - a field line starting with SP or HTAB (obs-fold, or whitespace before
//     the first field) -> 400; an empty request line -> 400; NUL -> 400;
//   - more than max_header_fields field lines -> 431;
//   - no blank line within max_header_bytes bytes -> 431.
class RawHeadScanner {
 public:
  enum class State { need_more, complete, rejected };

  explicit RawHeadScanner(RequestLimits limits) : limits_(limits) {}

  State scan(std::string_view received);
  State state() const { return state_; }
  // Size of the head including its blank line; valid when complete.
  std::size_t head_size() const { return head_size_; }
  // Valid when rejected.
  const Rejection& rejection() const { return rejection_; }

 private:
  State reject(http::status status, std::string reason);
  // Handles the line [line_start_, cr) that ended with CRLF at `cr`.
  State end_line(std::size_t cr);

  RequestLimits limits_;
  State state_ = State::need_more;
  std::size_t pos_ = 0;         // next byte to scan
  std::size_t line_start_ = 0;  // first byte of the current line
  std::size_t lines_ = 0;       // complete lines so far (the request line is line 0)
  std::size_t head_size_ = 0;
  Rejection rejection_;
};

// True when every byte of `authority` may stand in an RFC 3986 authority
// (reg-name, IP-literal, port; no userinfo, no '"', no space).
bool is_valid_authority(std::string_view authority);

// Checks a head Beast parsed (after RawHeadScanner accepted its bytes).
// On success returns the request target to forward: origin-form ("/path?q")
// for an absolute-form target whose authority equals Host, the target as
// received otherwise. Rejects (400 unless noted):
//   - Transfer-Encoding with Content-Length; more than one Transfer-Encoding
//     field; any Transfer-Encoding other than exactly "chunked"
//     (case-insensitive); Transfer-Encoding in an HTTP/1.0 request;
//   - more than one Content-Length field (even with equal values); a value
//     that is not 1-19 decimal digits; a length over max_body_bytes -> 413;
//   - no Host in HTTP/1.1, more than one Host, a Host with characters that
//     cannot be in an authority (space, '/', '@', ...);
//   - a target that is not origin-form, absolute-form (http/https) or "*"
//     with OPTIONS; an absolute-form target with userinfo or whose authority
//     differs from Host (compared case-insensitively, ports as written);
//   - more than max_header_fields fields -> 431.
tl::expected<std::string, Rejection> validate_request_head(const http::request_header<>& request,
                                                           const RequestLimits& limits);

}  // namespace dialback::http1
