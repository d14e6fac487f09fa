#include "http1/request_validation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "core/ascii.hpp"

namespace dialback::http1 {
namespace {

std::string_view trim_ows(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

tl::unexpected<Rejection> reject(std::string reason,
                                 http::status status = http::status::bad_request) {
  return tl::unexpected(Rejection{status, std::move(reason)});
}

// RFC 3986 authority characters (reg-name, IP-literal, port), without
// userinfo: unreserved, sub-delims, '%', ':', '[', ']'.
bool is_authority_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("-._~!$&'()*+,;=%:[]").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// Splits an absolute-form target "scheme://authority[/path][?query]".
// Returns false when `target` does not start with http:// or https://.
bool split_absolute(std::string_view target, std::string_view& authority, std::string_view& rest) {
  std::size_t scheme_end = 0;
  if (istarts_with(target, "http://")) {
    scheme_end = 7;
  } else if (istarts_with(target, "https://")) {
    scheme_end = 8;
  } else {
    return false;
  }
  const std::string_view after = target.substr(scheme_end);
  const std::size_t end = std::min(after.find_first_of("/?#"), after.size());
  authority = after.substr(0, end);
  rest = after.substr(end);
  return true;
}

std::optional<Rejection> check_framing(const http::request_header<>& request,
                                       const RequestLimits& limits) {
  std::size_t te_count = 0;
  std::size_t cl_count = 0;
  std::string_view te;
  std::string_view cl;
  for (const auto& field : request) {
    if (field.name() == http::field::transfer_encoding) {
      ++te_count;
      te = field.value();
    } else if (field.name() == http::field::content_length) {
      ++cl_count;
      cl = field.value();
    }
  }
  if (te_count > 0 && cl_count > 0) {
    return Rejection{http::status::bad_request,
                     "both Transfer-Encoding and Content-Length (request smuggling)"};
  }
  if (te_count > 1) return Rejection{http::status::bad_request, "more than one Transfer-Encoding"};
  if (te_count == 1) {
    if (request.version() < 11) {
      return Rejection{http::status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
    }
    if (!iequals(trim_ows(te), "chunked")) {
      return Rejection{http::status::bad_request,
                       "Transfer-Encoding other than \"chunked\" is not accepted"};
    }
  }
  if (cl_count > 1) return Rejection{http::status::bad_request, "more than one Content-Length"};
  if (cl_count == 1) {
    const std::string_view digits = trim_ows(cl);
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    const bool all_digits =
        !digits.empty() &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!all_digits || ec != std::errc{} || end != digits.data() + digits.size()) {
      return Rejection{http::status::bad_request, "invalid Content-Length"};
    }
    if (limits.max_body_bytes > 0 && length > limits.max_body_bytes) {
      return Rejection{
          http::status::payload_too_large,
          "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes"};
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_valid_authority(std::string_view authority) {
  return std::all_of(authority.begin(), authority.end(),
                     [](char c) { return is_authority_char(static_cast<unsigned char>(c)); });
}

// ---- RawHeadScanner ------------------------------------------------------

RawHeadScanner::State RawHeadScanner::reject(http::status status, std::string reason) {
  rejection_ = Rejection{status, std::move(reason)};
  state_ = State::rejected;
  return state_;
}

RawHeadScanner::State RawHeadScanner::end_line(std::size_t cr) {
  const bool empty = cr == line_start_;
  const std::size_t index = lines_++;
  line_start_ = cr + 2;
  if (index == 0) {
    if (empty) return reject(http::status::bad_request, "empty request line");
    return State::need_more;
  }
  if (empty) {
    head_size_ = cr + 2;
    state_ = State::complete;
    return state_;
  }
  if (index > limits_.max_header_fields) {
    return reject(http::status::request_header_fields_too_large,
                  "more than " + std::to_string(limits_.max_header_fields) + " header fields");
  }
  return State::need_more;
}

RawHeadScanner::State RawHeadScanner::scan(std::string_view received) {
  const auto too_large = [this] {
    return reject(
        http::status::request_header_fields_too_large,
        "request header larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
  };
  while (state_ == State::need_more && pos_ < received.size()) {
    if (pos_ >= limits_.max_header_bytes) return too_large();
    const char c = received[pos_];
    if (c == '\r') {
      if (pos_ + 1 == received.size()) return state_;  // the LF may still come
      if (pos_ + 1 >= limits_.max_header_bytes) return too_large();
      if (received[pos_ + 1] != '\n') {
        return reject(http::status::bad_request, "CR not followed by LF in the header");
      }
      const std::size_t cr = pos_;
      pos_ += 2;
      end_line(cr);
      continue;
    }
    if (c == '\n') return reject(http::status::bad_request, "bare LF line ending in the header");
    if (c == '\0') return reject(http::status::bad_request, "NUL byte in the header");
    if (pos_ == line_start_ && lines_ > 0 && (c == ' ' || c == '\t')) {
      return reject(http::status::bad_request, "obsolete line folding (obs-fold) in the header");
    }
    ++pos_;
  }
  return state_;
}

// ---- validate_request_head ----------------------------------------------

tl::expected<std::string, Rejection> validate_request_head(const http::request_header<>& request,
                                                           const RequestLimits& limits) {
  const auto fields = static_cast<std::size_t>(std::distance(request.begin(), request.end()));
  if (fields > limits.max_header_fields) {
    return reject("more than " + std::to_string(limits.max_header_fields) + " header fields",
                  http::status::request_header_fields_too_large);
  }
  if (auto framing = check_framing(request, limits)) return tl::unexpected(std::move(*framing));

  std::size_t host_count = 0;
  std::string_view host;
  for (const auto& field : request) {
    if (field.name() == http::field::host) {
      ++host_count;
      host = field.value();
    }
  }
  if (host_count > 1) return reject("more than one Host");
  if (host_count == 0 && request.version() >= 11) return reject("missing Host");
  if (!is_valid_authority(host)) return reject("invalid Host");

  const std::string_view target = request.target();
  if (target.starts_with('/')) return std::string(target);
  if (target == "*") {
    if (request.method() == http::verb::options) return std::string(target);
    return reject("\"*\" target is only valid with OPTIONS");
  }
  std::string_view authority;
  std::string_view rest;
  if (!split_absolute(target, authority, rest)) return reject("invalid request target");
  if (authority.find('@') != std::string_view::npos) {
    return reject("userinfo in an absolute-form target");
  }
  if (host_count == 0 || !iequals(authority, host)) {
    return reject("absolute-form target names a host other than Host");
  }
  if (rest.empty() || rest.front() != '/') return "/" + std::string(rest);
  return std::string(rest);
}

}  // namespace dialback::http1
