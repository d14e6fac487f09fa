#include "transport/devtunnel/devtunnel_wire.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "core/asio.hpp"
#include "http1/header_translation.hpp"

namespace dialback::devtunnel {

bool is_valid_user_id(std::string_view id) {
  return !id.empty() && id.size() <= 256 && std::all_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

std::string request_line(const RequestHead& head) {
  return head.method + " " + head.path + " HTTP/1.1";
}

std::string raw_request(const RequestHead& head, std::string body) {
  http::request<http::string_body> request;
  request.version(11);
  http1::apply_request_head(head, "", request.base());
  request.erase(http::field::content_length);
  request.content_length(body.size());
  request.body() = std::move(body);
  request.keep_alive(false);  // the client reads the app's answer until it closes
  std::ostringstream out;
  out << request;
  return std::move(out).str();
}

tl::expected<RawResponse, std::string> parse_raw_response(std::string_view raw,
                                                          std::string_view method,
                                                          std::uint64_t max_body) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(max_body);
  parser.skip(method == "HEAD");
  error_code ec;
  std::size_t used = 0;
  while (used < raw.size() && !parser.is_done()) {
    const std::size_t n = parser.put(asio::buffer(raw.data() + used, raw.size() - used), ec);
    if (ec == http::error::need_more) break;
    if (ec) return tl::unexpected("not an HTTP/1.x response: " + ec.message());
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    ec = {};
    if (parser.is_header_done()) parser.put_eof(ec);
    if (!parser.is_header_done()) return tl::unexpected(std::string("no complete response head"));
    if (ec) return tl::unexpected("the response body is cut short: " + ec.message());
  }
  auto response = parser.release();
  RawResponse out;
  out.head = http1::tunnel_response_from(response.base());
  out.body = std::move(response.body());
  std::erase_if(out.head.headers,
                [](const HeaderField& field) { return field.name == "content-length"; });
  if (!http1::response_has_no_body(method, out.head.status)) {
    out.head.headers.push_back({"content-length", std::to_string(out.body.size())});
  }
  return out;
}

std::string new_request_id(std::mt19937_64& random) {
  const std::uint64_t high = (random() & ~0xf000ull) | 0x4000ull;                 // version 4
  const std::uint64_t low = (random() & ~(0xc000ull << 48)) | (0x8000ull << 48);  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                     high & 0xffff, low >> 48, low & 0xffffffffffffull);
}

}  // namespace dialback::devtunnel
