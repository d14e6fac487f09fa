#include "transport/handshake_reading.hpp"

#include <algorithm>

namespace dialback {
namespace {

constexpr std::size_t kMaxHandshakeHead = 16 * 1024;
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace

std::unique_ptr<Watchdog> watch_registration(AgentConnection& connection) {
  tcp::socket& socket = connection.tls.next_layer();
  return std::make_unique<Watchdog>(
      socket.get_executor(), connection.deadline - std::chrono::steady_clock::now(), [&socket] {
        error_code ignored;
        socket.close(ignored);
      });
}

Task<error_code> read_request_head(AgentConnection& connection, beast::flat_buffer& buffer,
                                   http::request_parser<http::empty_body>& parser) {
  const auto initial = asio::buffer(connection.initial);
  buffer.commit(asio::buffer_copy(buffer.prepare(initial.size()), initial));
  parser.header_limit(kMaxHandshakeHead);
  error_code ec;
  co_await http::async_read(connection.tls, buffer, parser, nothrow(ec));
  co_return ec;
}

std::optional<bool> starts_with_http2_preface(std::string_view first_bytes) {
  const std::size_t n = std::min(first_bytes.size(), kHttp2Preface.size());
  if (first_bytes.substr(0, n) != kHttp2Preface.substr(0, n)) return false;
  if (n < kHttp2Preface.size()) return std::nullopt;
  return true;
}

}  // namespace dialback
