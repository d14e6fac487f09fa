#include "edge/external_auth_client.hpp"

#include <algorithm>
#include <memory>

#include "config/listen_address.hpp"
#include "core/async_event.hpp"
#include "core/watchdog.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxResponseHead = 8 * 1024;

ExternalAuthAnswer unavailable(std::string reason) {
  return ExternalAuthAnswer{ExternalVerdict::unavailable, std::move(reason)};
}

// One name lookup, shared by the task running it and the check waiting for
// it, which may stop waiting first.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), finished(executor) {}
  tcp::resolver resolver;
  tcp::resolver::results_type results;
  error_code ec;
  bool done = false;
  AsyncEvent finished;
};

Task<void> run_lookup(std::shared_ptr<Lookup> lookup, std::string host, std::string port) {
  lookup->results = co_await lookup->resolver.async_resolve(host, port, nothrow(lookup->ec));
  lookup->done = true;
  lookup->finished.notify();
}

}  // namespace

ExternalAuthClient::ExternalAuthClient(asio::any_io_executor executor, std::size_t cache_capacity)
    : executor_(executor),
      cache_(cache_capacity),
      lookups_(std::move(executor), nullptr, "external auth name lookups") {}

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
  const ExternalAuthUrl& url = config.url;
  const auto timed_out = [&] {
    return unavailable(
        "timed out after " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
        "ms");
  };
  if (timeout <= Clock::duration::zero()) co_return timed_out();
  ++requests_;
  const auto deadline = Clock::now() + timeout;

  // getaddrinfo runs on Asio's resolver thread and cannot be interrupted
  // once started: the lookup runs as its own task, and this check stops
  // waiting for it at the deadline.
  auto lookup = std::make_shared<Lookup>(executor_);
  lookups_.spawn(run_lookup(lookup, url.host, std::to_string(url.port)));
  while (!lookup->done) {
    const bool woken = co_await lookup->finished.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) break;
  }
  if (!lookup->done) co_return timed_out();
  if (lookup->ec) co_return unavailable("resolve: " + lookup->ec.message());

  tcp::socket socket(executor_);
  // What is left of the deadline for the rest; destroyed (disarmed) before the socket.
  Watchdog watchdog(executor_, deadline - Clock::now(), [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  error_code ec;
  co_await asio::async_connect(socket, lookup->results, nothrow(ec));
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
