#include "edge/request_head_reader.hpp"

#include "edge/public_stream.hpp"
#include "http1/body_pump.hpp"

namespace dialback::edge {
namespace {

constexpr std::size_t kReadSize = 16u << 10;

HeadRead rejected(http1::Rejection rejection) {
  return HeadRead{HeadRead::Outcome::rejected, std::move(rejection)};
}

HeadRead closed() { return HeadRead{}; }

std::string_view view(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

// The header deadline passed: 408 when part of a head arrived.
HeadRead header_timed_out(const beast::flat_buffer& buffer) {
  if (buffer.size() == 0) return closed();
  return rejected({http::status::request_timeout, "request header not received in time"});
}

}  // namespace

template <class Stream>
Task<HeadRead> read_request_head(Stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::buffer_body>& parser,
                                 Deadline& deadline, HeadReadOptions options) {
  error_code ec;
  if (buffer.size() == 0 && !options.first_request) {
    // Idle keep-alive: a timeout here closes the connection silently.
    deadline.expire_after(options.idle_timeout);
    auto space = buffer.prepare(kReadSize);
    const std::size_t n = co_await stream.async_read_some(space, nothrow(ec));
    deadline.clear();
    if (ec || deadline.expired()) co_return closed();
    buffer.commit(n);
  }

  deadline.expire_after(options.header_timeout);
  http1::RawHeadScanner scanner(options.limits);
  for (;;) {
    const auto state = scanner.scan(view(buffer));
    if (state == http1::RawHeadScanner::State::rejected) {
      deadline.clear();
      co_return rejected(scanner.rejection());
    }
    if (state == http1::RawHeadScanner::State::complete) break;
    // Checked before every read: a cancel that fired between reads is not pending.
    if (deadline.expired()) co_return header_timed_out(buffer);
    auto space = buffer.prepare(kReadSize);
    const std::size_t n = co_await stream.async_read_some(space, nothrow(ec));
    buffer.commit(n);
    if (deadline.expired()) co_return header_timed_out(buffer);
    if (ec) {
      deadline.clear();
      co_return closed();
    }
  }
  deadline.clear();

  // Beast parses a head only once it is complete, so handing it exactly the
  // scanned bytes parses the head and nothing of the body.
  const std::size_t head_size = scanner.head_size();
  parser.header_limit(static_cast<std::uint32_t>(head_size));
  parser.body_limit(http1::kNoBodyLimit);  // validate_request_head() answers 413 first
  const std::size_t used = parser.put(asio::const_buffer(buffer.data().data(), head_size), ec);
  if (ec == http::error::bad_version && options.first_request) {
    // A first line without any HTTP version is from a peer that does not
    // speak HTTP/1 (an HTTP/2 client with a broken preface, h2spec 3.5): an
    // HTTP/1.1 error page would only be garbage to it.
    const std::string_view head(static_cast<const char*>(buffer.data().data()), head_size);
    if (head.substr(0, head.find("\r\n")).find("HTTP/") == std::string_view::npos) {
      co_return HeadRead{HeadRead::Outcome::not_http, {http::status::bad_request, "not HTTP/1.x"}};
    }
  }
  if (ec || used != head_size || !parser.is_header_done()) {
    std::string reason = "malformed request: ";
    reason += ec ? ec.message() : "incomplete head";
    co_return rejected({http::status::bad_request, std::move(reason)});
  }
  buffer.consume(used);
  auto target = http1::validate_request_head(parser.get(), options.limits);
  if (!target) co_return rejected(std::move(target.error()));
  if (*target != parser.get().target()) parser.get().target(*target);
  // Chunked bodies are limited while they stream (Beast counts down the limit).
  if (options.limits.max_body_bytes > 0) parser.body_limit(options.limits.max_body_bytes);
  co_return HeadRead{HeadRead::Outcome::request, {}};
}

template Task<HeadRead> read_request_head(PlainStream&, beast::flat_buffer&,
                                          http::request_parser<http::buffer_body>&,
                                          Deadline&, HeadReadOptions);
template Task<HeadRead> read_request_head(TlsStream&, beast::flat_buffer&,
                                          http::request_parser<http::buffer_body>&,
                                          Deadline&, HeadReadOptions);

}  // namespace dialback::edge
