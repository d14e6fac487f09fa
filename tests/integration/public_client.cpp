#include "public_client.hpp"

namespace dialback::test {

using Clock = std::chrono::steady_clock;

PublicClient::PublicClient(asio::any_io_executor executor, std::chrono::milliseconds io_timeout)
    : stream_(std::move(executor)), io_timeout_(io_timeout) {}

Task<error_code> PublicClient::connect(tcp::endpoint endpoint) {
  error_code ec;
  stream_.expires_after(io_timeout_);
  co_await stream_.async_connect(endpoint, nothrow(ec));
  co_return ec;
}

Task<HttpResult> PublicClient::request(http::request<http::string_body> request) {
  const auto started = Clock::now();
  if (!request.chunked() && !request.has_content_length()) request.prepare_payload();
  const bool head = request.method() == http::verb::head;
  error_code ec;
  stream_.expires_after(io_timeout_);
  co_await http::async_write(stream_, request, nothrow(ec));
  if (ec) co_return HttpResult{ec, {}, {}};
  co_return co_await read_response(head, started);
}

Task<HttpResult> PublicClient::raw(std::string bytes, bool head_request) {
  const auto started = Clock::now();
  error_code ec;
  stream_.expires_after(io_timeout_);
  co_await asio::async_write(stream_, asio::buffer(bytes), nothrow(ec));
  if (ec) co_return HttpResult{ec, {}, {}};
  co_return co_await read_response(head_request, started);
}

Task<HttpResult> PublicClient::read_response(bool head_request, Clock::time_point started) {
  HttpResult result;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  if (head_request) parser.skip(true);
  stream_.expires_after(io_timeout_);
  co_await http::async_read(stream_, buffer_, parser, nothrow(result.ec));
  stream_.expires_never();
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (!result.ec) result.response = parser.release();
  co_return result;
}

bool PublicClient::server_kept_open() {
  auto& socket = stream_.socket();
  if (!socket.is_open()) return false;
  error_code ec;
  if (socket.available(ec) > 0 || ec) return !ec;
  socket.non_blocking(true, ec);
  char probe;
  socket.receive(asio::buffer(&probe, 1), tcp::socket::message_peek, ec);
  error_code ignored;
  socket.non_blocking(false, ignored);
  return ec == asio::error::would_block;
}

void PublicClient::close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

http::request<http::string_body> make_request(http::verb method, std::string target,
                                              std::string host, std::string body,
                                              Headers headers) {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "dialback-integration-test");
  for (auto& [name, value] : headers) request.insert(name, value);
  request.body() = std::move(body);
  return request;
}

Task<HttpResult> fetch(tcp::endpoint edge, http::request<http::string_body> request) {
  PublicClient client(co_await asio::this_coro::executor);
  // Each co_await its own statement (g++ 12 miscompiles some awaits in conditions).
  const error_code ec = co_await client.connect(edge);
  if (ec) co_return HttpResult{ec, {}, {}};
  auto result = co_await client.request(std::move(request));
  client.close();
  co_return result;
}

Task<HttpResult> fetch_get(tcp::endpoint edge, std::string target, std::string host) {
  co_return co_await fetch(edge, make_request(http::verb::get, std::move(target), std::move(host)));
}

}  // namespace dialback::test
