#include "test_upstream.hpp"

#include <charconv>
#include <optional>

#include <boost/beast/websocket.hpp>
#include <openssl/evp.h>

#include "core/ascii.hpp"

namespace dialback::test {
namespace {

std::optional<std::uint64_t> query_number(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == key) {
      std::uint64_t value = 0;
      const auto value_text = pair.substr(eq + 1);
      auto [ptr, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), value);
      if (ec == std::errc{} && ptr == value_text.data() + value_text.size()) return value;
      return std::nullopt;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

std::string pattern_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::uint32_t x = 2463534242u;  // xorshift32: deterministic, no short period
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x & 0xff);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

TestUpstream::TestUpstream(asio::any_io_executor executor, std::string name, std::string mount)
    : executor_(executor), name_(std::move(name)), mount_(std::move(mount)), acceptor_(executor) {}

TestUpstream::~TestUpstream() = default;

tcp::endpoint TestUpstream::start() {
  const tcp::endpoint any(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(any.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(any);
  acceptor_.listen();
  endpoint_ = acceptor_.local_endpoint();
  ++running_;
  asio::co_spawn(executor_, accept_loop(), asio::detached);
  return endpoint_;
}

void TestUpstream::stop() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto* connection : connections_) connection->socket().close(ignored);
  for (auto* timer : timers_) timer->cancel();
}

Task<void> TestUpstream::accept_loop() {
  while (!stopping_) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
    if (ec) {
      if (stopping_) break;
      continue;
    }
    ++running_;
    asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
  }
  --running_;
}

Task<void> TestUpstream::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto self = connections_.insert(connections_.end(), &stream);
  beast::flat_buffer buffer;
  error_code ec;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    co_await http::async_read(stream, buffer, parser, nothrow(ec));
    if (ec) break;
    http::request<http::string_body> request = parser.release();
    ++requests_seen_;

    const std::string_view target = request.target();
    std::string_view path = path_of(target);
    if (!mount_.empty()) {  // outside the mount nothing matches an endpoint
      path = path.starts_with(mount_) ? path.substr(mount_.size()) : std::string_view{};
    }
    if (path == "/ws" && beast::websocket::is_upgrade(request)) {
      connections_.erase(self);  // serve_websocket() lists the stream it takes over
      auto session = serve_websocket(std::move(stream), std::move(request));
      co_await std::move(session);
      --running_;
      co_return;
    }
    if (path == "/ws-raw") {
      co_await serve_raw_upgrade(stream, buffer);
      break;
    }
    ++in_flight_;
    http::response<http::string_body> response{http::status::ok, 11};
    response.set("X-Upstream", name_);
    response.set(http::field::content_type, "application/octet-stream");
    bool cancelled = false;
    if (path == "/hello") {
      response.body() = "hello";
    } else if (path == "/echo") {
      response.body() = request.body();
    } else if (path == "/bytes") {
      response.body() = pattern_bytes(query_number(target, "n").value_or(0));
    } else if (path == "/slow") {
      asio::steady_timer timer(executor_);
      auto registered = timers_.insert(timers_.end(), &timer);
      timer.expires_after(std::chrono::milliseconds(query_number(target, "ms").value_or(0)));
      error_code timer_ec;
      co_await timer.async_wait(nothrow(timer_ec));
      timers_.erase(registered);
      cancelled = stopping_;
      response.body() = "slow";
    } else if (path == "/sha256") {
      response.body() = sha256_hex(request.body());
    } else if (path == "/reflect") {
      const std::string line = std::string(request.method_string()) + " " + std::string(target);
      response.set("X-Reflect", line);
      response.body() = line + " " + sha256_hex(request.body()) + " " +
                        std::to_string(request.body().size());
    } else if (path == "/headers") {
      std::string text;
      for (const auto& field : request) {
        text += to_lower_ascii(field.name_string()) + ": " + std::string(field.value()) + "\n";
      }
      response.body() = std::move(text);
    } else if (path == "/ws-refuse") {
      response.result(http::status::forbidden);
      response.body() = "websocket refused\n";
    } else if (path == "/status") {
      response.result(static_cast<unsigned>(query_number(target, "code").value_or(200)));
      if (response.result() == http::status::not_modified) response.set(http::field::etag, "\"v1\"");
    } else {
      response.result(http::status::not_found);
      response.body() = "no such test endpoint\n";
    }
    --in_flight_;
    if (cancelled) break;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    if (request.method() == http::verb::head) {
      http::response<http::empty_body> head{response.result(), 11};
      for (const auto& field : response) head.insert(field.name_string(), field.value());
      head.keep_alive(request.keep_alive());
      http::response_serializer<http::empty_body> serializer{head};
      co_await http::async_write_header(stream, serializer, nothrow(ec));
    } else {
      co_await http::async_write(stream, response, nothrow(ec));
    }
    if (ec || !response.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  connections_.erase(self);
  --running_;
}

}  // namespace dialback::test

namespace dialback::test {

Task<void> TestUpstream::serve_websocket(beast::tcp_stream stream,
                                         http::request<http::string_body> request) {
  namespace websocket = beast::websocket;
  stream.expires_never();  // the websocket stream keeps its own timeouts
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  auto self = connections_.insert(connections_.end(), &ws.next_layer());
  const std::string forwarded_for(request["X-Forwarded-For"]);
  const std::string host(request[http::field::host]);
  bool chat = false;
  for (auto token : http::token_list(request[http::field::sec_websocket_protocol])) {
    if (token == "chat") chat = true;
  }
  ws.set_option(websocket::stream_base::decorator(
      [name = name_, forwarded_for, host, chat](websocket::response_type& response) {
        response.set("X-Upstream", name);
        response.set("X-Seen-Forwarded-For", forwarded_for);
        response.set("X-Seen-Host", host);
        if (chat) response.set(http::field::sec_websocket_protocol, "chat");
      }));
  error_code ec;
  co_await ws.async_accept(request, nothrow(ec));
  while (!ec && !stopping_) {
    beast::flat_buffer message;
    co_await ws.async_read(message, nothrow(ec));
    if (ec) break;  // websocket::error::closed after a close handshake
    if (ws.got_text() && beast::buffers_to_string(message.data()) == "close-now") {
      ws.next_layer().socket().close(ec);
      break;
    }
    ws.text(ws.got_text());
    co_await ws.async_write(message.data(), nothrow(ec));
  }
  error_code ignored;
  ws.next_layer().socket().close(ignored);
  connections_.erase(self);
}

Task<void> TestUpstream::serve_raw_upgrade(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  // One write: the relay must pass on bytes that arrive together with the 101.
  std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nX-Upstream: " + name_ + "\r\n\r\ngreeting:";
  out += beast::buffers_to_string(buffer.data());
  buffer.consume(buffer.size());
  error_code ec;
  co_await asio::async_write(stream, asio::buffer(out), nothrow(ec));
  std::string chunk(16 * 1024, '\0');
  while (!ec) {
    const std::size_t n = co_await stream.async_read_some(asio::buffer(chunk), nothrow(ec));
    if (ec == asio::error::eof) {
      ec = {};
      co_await asio::async_write(stream, asio::buffer(std::string_view(":bye")), nothrow(ec));
      break;
    }
    if (ec) break;
    co_await asio::async_write(stream, asio::buffer(chunk.data(), n), nothrow(ec));
  }
}

}  // namespace dialback::test
