#include "edge/external_auth_client.hpp"

#include <algorithm>

#include "config/listen_address.hpp"
#include "core/watchdog.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxResponseHead = 8 * 1024;

ExternalAuthAnswer unavailable(std::string reason) {
  return ExternalAuthAnswer{ExternalVerdict::unavailable, std::move(reason)};
}

}  // namespace

ExternalAuthClient::ExternalAuthClient(asio::any_io_executor executor, std::size_t cache_capacity)
    : executor_(std::move(executor)), cache_(cache_capacity) {}

Task<ExternalAuthAnswer> ExternalAuthClient::check(const ExternalAuthConfig& config,
                                                   const ExternalAuthQuery& query,
                                                   Clock::duration limit) {
  std::string key;
  if (config.cache.count() > 0) {
    key = external_auth_cache_key(query);
    if (const auto cached = cache_.find(key, Clock::now())) {
      co_return ExternalAuthAnswer{*cached, std::string(to_string(*cached)) + " (cached)"};
    }
  }
  const Clock::duration timeout =
      std::min<Clock::duration>(config.timeout, std::max<Clock::duration>(limit, {}));
  ExternalAuthAnswer answer = co_await ask(config, query, timeout);
  if (!key.empty() && answer.verdict != ExternalVerdict::unavailable) {
    const auto now = Clock::now();
    cache_.store(key, answer.verdict, now + config.cache, now);
  }
  co_return answer;
}

Task<ExternalAuthAnswer> ExternalAuthClient::ask(const ExternalAuthConfig& config,
                                                 const ExternalAuthQuery& query,
                                                 Clock::duration timeout) {
  ++requests_;
  const ExternalAuthUrl& url = config.url;
  const auto timed_out = [&] {
    return unavailable(
        "timed out after " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
        "ms");
  };
  if (timeout <= Clock::duration::zero()) co_return timed_out();

  tcp::resolver resolver(executor_);
  tcp::socket socket(executor_);
  // One deadline for every step; destroyed (disarmed) before the socket.
  Watchdog watchdog(executor_, timeout, [&resolver, &socket] {
    resolver.cancel();
    error_code ignored;
    socket.close(ignored);
  });
  error_code ec;
  const auto endpoints =
      co_await resolver.async_resolve(url.host, std::to_string(url.port), nothrow(ec));
  if (watchdog.fired()) co_return timed_out();
  if (ec) co_return unavailable("resolve: " + ec.message());
  co_await asio::async_connect(socket, endpoints, nothrow(ec));
  if (watchdog.fired()) co_return timed_out();
  if (ec) co_return unavailable("connect: " + ec.message());

  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, to_string(ListenAddress{url.host, url.port}));
  request.set(http::field::user_agent, "dialback-edge/0.1");
  request.set(http::field::connection, "close");
  if (!query.authorization.empty()) request.set(http::field::authorization, query.authorization);
  for (const auto& [name, value] : query.headers) request.set(name, value);
  co_await http::async_write(socket, request, nothrow(ec));
  if (watchdog.fired()) co_return timed_out();
  if (ec) co_return unavailable("write: " + ec.message());

  beast::flat_buffer buffer(kMaxResponseHead);
  http::response_parser<http::empty_body> parser;
  parser.header_limit(kMaxResponseHead);
  co_await http::async_read_header(socket, buffer, parser, nothrow(ec));
  if (watchdog.fired()) co_return timed_out();
  if (ec) co_return unavailable("read: " + ec.message());
  watchdog.disarm();
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);

  const unsigned status = parser.get().result_int();
  switch (status) {
    case 200: co_return ExternalAuthAnswer{ExternalVerdict::allowed, "200"};
    case 401: co_return ExternalAuthAnswer{ExternalVerdict::unauthorized, "401"};
    case 403: co_return ExternalAuthAnswer{ExternalVerdict::forbidden, "403"};
    default: co_return unavailable("answered " + std::to_string(status));
  }
}

}  // namespace dialback::edge
