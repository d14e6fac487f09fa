// The agent's CONNECT exchange with an HTTP proxy, against a scripted proxy
// on loopback that records the request and sends a canned answer.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "coro_test.hpp"
#include "transport/http_proxy_connect.hpp"

namespace dialback {
namespace {

struct Exchange {
  std::string request;  // what the proxy received, up to the empty line
  std::optional<tl::expected<void, std::string>> result;
};

// Connects to a one-shot proxy that answers `answer` (then closes when
// `close_after` is set) and runs the CONNECT for host:port through it.
Exchange run_exchange(const std::string& answer, const ProxyUrl& proxy, std::string host,
                      std::uint16_t port, bool close_after = false) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  Exchange exchange;
  auto scripted = [&]() -> Task<void> {
    tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    std::string received;
    error_code ec;
    co_await asio::async_read_until(peer, asio::dynamic_buffer(received), "\r\n\r\n", nothrow(ec));
    exchange.request = received;
    co_await asio::async_write(peer, asio::buffer(answer), nothrow(ec));
    if (close_after) co_return;
    // Hold the connection until the agent side closes it.
    char byte;
    co_await peer.async_read_some(asio::buffer(&byte, 1), nothrow(ec));
  };
  auto agent = [&]() -> Task<void> {
    tcp::socket socket(io);
    co_await socket.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    exchange.result = co_await http_proxy_connect(socket, proxy, host, port);
    socket.close();
  };
  asio::co_spawn(io, scripted(), asio::detached);
  EXPECT_TRUE(test::run_task(io, agent()));
  return exchange;
}

ProxyUrl proxy_url(std::string user = "", std::string password = "") {
  return ProxyUrl{"127.0.0.1", 3128, std::move(user), std::move(password)};
}

std::string error_of(const Exchange& exchange) {
  if (!exchange.result) return "(no result)";
  return *exchange.result ? "(success)" : exchange.result->error();
}

TEST(HttpProxyConnect, SendsConnectWithCredentialsAndAcceptsA2xx) {
  auto exchange = run_exchange("HTTP/1.1 200 Connection established\r\n\r\n",
                               proxy_url("alice", "s3cret"), "edge.test", 8443);
  ASSERT_TRUE(exchange.result);
  EXPECT_TRUE(*exchange.result) << error_of(exchange);
  EXPECT_TRUE(exchange.request.starts_with("CONNECT edge.test:8443 HTTP/1.1\r\n"))
      << exchange.request;
  EXPECT_NE(exchange.request.find("Host: edge.test:8443\r\n"), std::string::npos)
      << exchange.request;
  // base64("alice:s3cret")
  EXPECT_NE(exchange.request.find("Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"),
            std::string::npos)
      << exchange.request;
}

TEST(HttpProxyConnect, BracketsAnIpv6TargetAndSendsNoCredentialsWithoutAUser) {
  auto exchange = run_exchange("HTTP/1.0 200 OK\r\nX-Extra: 1\r\n\r\n", proxy_url(), "::1", 443);
  EXPECT_TRUE(exchange.result && *exchange.result) << error_of(exchange);
  EXPECT_TRUE(exchange.request.starts_with("CONNECT [::1]:443 HTTP/1.1\r\n")) << exchange.request;
  EXPECT_EQ(exchange.request.find("Proxy-Authorization"), std::string::npos) << exchange.request;
}

TEST(HttpProxyConnect, RefusalsNameTheProxyAndWhatItAnswered) {
  struct Case {
    std::string answer;
    ProxyUrl proxy;
    const char* expected;
  };
  const Case cases[] = {
      {"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n"
       "Content-Length: 0\r\n\r\n",
       proxy_url(),
       "proxy http://127.0.0.1:3128 requires credentials (407 Proxy Authentication Required)"},
      {"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
       proxy_url("alice", "wrong"),
       "proxy http://alice@127.0.0.1:3128 refused the credentials of user alice (407"},
      {"HTTP/1.0 401 Unauthorized\r\n\r\n", proxy_url("alice", "wrong"),
       "refused the credentials of user alice (401 Unauthorized)"},
      {"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!", proxy_url(),
       "proxy http://127.0.0.1:3128 refused CONNECT edge.test:8443: 403 Forbidden"},
      {"HTTP/1.1 502 Bad Gateway\r\n\r\n", proxy_url(), "refused CONNECT edge.test:8443: 502"},
      {"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01", proxy_url(), "sent data after its answer"},
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n", proxy_url(), "bad answer to CONNECT edge.test:8443"},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", proxy_url(),
       "bad answer to CONNECT"},
  };
  for (const Case& c : cases) {
    auto exchange = run_exchange(c.answer, c.proxy, "edge.test", 8443);
    ASSERT_TRUE(exchange.result) << c.expected;
    ASSERT_FALSE(*exchange.result) << c.expected;
    EXPECT_NE(error_of(exchange).find(c.expected), std::string::npos) << error_of(exchange);
    EXPECT_EQ(error_of(exchange).find("wrong"), std::string::npos) << error_of(exchange);
  }
}

TEST(HttpProxyConnect, AProxyThatClosesWithoutAnAnswerIsAnError) {
  auto exchange = run_exchange("", proxy_url(), "edge.test", 8443, /*close_after=*/true);
  ASSERT_TRUE(exchange.result);
  EXPECT_NE(error_of(exchange).find("closed the connection instead of answering CONNECT"),
            std::string::npos)
      << error_of(exchange);
}

}  // namespace
}  // namespace dialback
