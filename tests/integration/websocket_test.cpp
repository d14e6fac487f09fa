// WebSocket through the tunnel (issue 3): a public `Upgrade: websocket`
// becomes an extended CONNECT stream, the agent upgrades to the local
// service, and bytes flow both ways. Only a real 101 switches; any other
// answer reaches the public client as a plain HTTP response.
#include <boost/beast/websocket.hpp>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

namespace websocket = beast::websocket;
using WsStream = websocket::stream<beast::tcp_stream>;

class WebSocketTest : public TransportMatrix {};

struct Handshake {
  error_code ec;
  websocket::response_type response;
  int status() const { return static_cast<int>(response.result_int()); }
};

// Connects to the edge and performs the client handshake for `target` on
// host app.test, offering `protocols` (Sec-WebSocket-Protocol) when not empty.
Task<Handshake> open_websocket(WsStream* ws, tcp::endpoint edge, std::string target,
                               std::string protocols) {
  Handshake result;
  co_await ws->next_layer().async_connect(edge, nothrow(result.ec));
  if (result.ec) co_return result;
  ws->set_option(websocket::stream_base::decorator([protocols](websocket::request_type& request) {
    request.set(http::field::user_agent, "dialback-integration-test");
    if (!protocols.empty()) request.set(http::field::sec_websocket_protocol, protocols);
  }));
  co_await ws->async_handshake(result.response, std::string(kHost), target, nothrow(result.ec));
  co_return result;
}

struct Message {
  error_code ec;
  std::string data;
  bool text = false;
};

Task<Message> read_message(WsStream* ws) {
  Message result;
  beast::flat_buffer buffer;
  co_await ws->async_read(buffer, nothrow(result.ec));
  result.data = beast::buffers_to_string(buffer.data());
  result.text = ws->got_text();
  co_return result;
}

// Sends one message and reads the next one.
Task<Message> round_trip(WsStream* ws, std::string data, bool text) {
  ws->text(text);
  error_code ec;
  co_await ws->async_write(asio::buffer(data), nothrow(ec));
  if (ec) co_return Message{ec, {}, false};
  co_return co_await read_message(ws);
}

Task<error_code> close_websocket(WsStream* ws) {
  error_code ec;
  co_await ws->async_close(websocket::close_code::normal, nothrow(ec));
  co_return ec;
}

http::request<http::string_body> upgrade_request(std::string target) {
  return make_request(http::verb::get, std::move(target), std::string(kHost), {},
                      {{"Upgrade", "websocket"},
                       {"Connection", "Upgrade"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                       {"Sec-WebSocket-Version", "13"}});
}

// A raw client for the byte-level scenario: what it sent, what came back.
struct RawExchange {
  error_code ec;
  std::string head;  // the response head, up to and including the blank line
  std::string rest;  // every byte after the head, up to EOF
};

// Sends `request_and_early` in one write, reads the response head, sends
// `late`, half-closes, then reads until the edge half-closes too.
Task<RawExchange> raw_upgrade(tcp::endpoint edge, std::string request_and_early, std::string late) {
  RawExchange result;
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(edge, nothrow(result.ec));
  if (result.ec) co_return result;
  co_await asio::async_write(socket, asio::buffer(request_and_early), nothrow(result.ec));
  if (result.ec) co_return result;
  std::string received;
  const std::size_t head_size = co_await asio::async_read_until(
      socket, asio::dynamic_buffer(received), "\r\n\r\n", nothrow(result.ec));
  if (result.ec) co_return result;
  result.head = received.substr(0, head_size);
  received.erase(0, head_size);
  co_await asio::async_write(socket, asio::buffer(late), nothrow(result.ec));
  if (result.ec) co_return result;
  socket.shutdown(tcp::socket::shutdown_send, result.ec);
  if (result.ec) co_return result;
  co_await asio::async_read(socket, asio::dynamic_buffer(received), nothrow(result.ec));
  if (result.ec == asio::error::eof) result.ec = {};
  result.rest = std::move(received);
  co_return result;
}

TEST_P(WebSocketTest, EchoesTextBinaryAndLargeMessagesThenClosesCleanly) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws", "chat, superchat"));
  ASSERT_FALSE(handshake.ec) << handshake.ec.message() << "\n" << handshake.response;
  EXPECT_EQ(handshake.status(), 101);
  EXPECT_EQ(handshake.response["X-Upstream"], "primary");
  EXPECT_EQ(handshake.response[http::field::sec_websocket_protocol], "chat");
  EXPECT_EQ(handshake.response["X-Seen-Forwarded-For"], "127.0.0.1");
  EXPECT_EQ(handshake.response.count("Dialback-Upgrade"), 0u);
  EXPECT_EQ(handshake.response.count(http::field::content_length), 0u);

  auto text = run(round_trip(&ws, "hello through the tunnel", true));
  ASSERT_FALSE(text.ec) << text.ec.message();
  EXPECT_EQ(text.data, "hello through the tunnel");
  EXPECT_TRUE(text.text);

  auto binary = run(round_trip(&ws, pattern_bytes(1000), false));
  ASSERT_FALSE(binary.ec) << binary.ec.message();
  EXPECT_EQ(binary.data, pattern_bytes(1000));
  EXPECT_FALSE(binary.text);

  auto large = run(round_trip(&ws, pattern_bytes(64 * 1024), false));
  ASSERT_FALSE(large.ec) << large.ec.message();
  EXPECT_EQ(large.data.size(), 64u * 1024);
  EXPECT_TRUE(large.data == pattern_bytes(64 * 1024));

  // Larger than a stream's flow-control window (1 MiB): backpressure both ways.
  auto huge = run(round_trip(&ws, pattern_bytes(3 << 20), false), 20s);
  ASSERT_FALSE(huge.ec) << huge.ec.message();
  EXPECT_EQ(huge.data.size(), std::size_t{3} << 20);
  EXPECT_TRUE(huge.data == pattern_bytes(3 << 20));

  auto closed = run(close_websocket(&ws));
  EXPECT_FALSE(closed) << closed.message();
  // The close handshake ends the relay on both sides.
  EXPECT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }));
  EXPECT_TRUE(run_until([&] { return logs_->contains("upgrade=websocket"); }));
  EXPECT_TRUE(logs_->contains("\"GET app.test/ws\" 101")) << "access log lacks the 101";
  EXPECT_FALSE(logs_->contains("upgrade=websocket error=")) << "relay reported an error";
  EXPECT_EQ(edge_->counters().requests_failed, 0u);
}

TEST_P(WebSocketTest, ServiceRefusingTheUpgradeAnswers403AndTheConnectionStaysHttp) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  PublicClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  auto refused = run(client.request(upgrade_request("/ws-refuse")));
  ASSERT_FALSE(refused.ec) << refused.ec.message();
  EXPECT_EQ(refused.status(), 403);
  EXPECT_EQ(refused.response.body(), "websocket refused\n");
  EXPECT_EQ(refused.response.count(http::field::upgrade), 0u);
  EXPECT_EQ(refused.response.count("Dialback-Upgrade"), 0u);
  // No switch happened: the same connection carries the next request.
  auto next = run(client.request(make_request(http::verb::get, "/hello")));
  ASSERT_FALSE(next.ec) << next.ec.message();
  EXPECT_EQ(next.status(), 200);
  EXPECT_EQ(next.response.body(), "hello");

  // A WebSocket client sees the upgrade declined with the service's status.
  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws-refuse", {}));
  EXPECT_EQ(handshake.ec, websocket::error::upgrade_declined) << handshake.ec.message();
  EXPECT_EQ(handshake.status(), 403);
}

TEST_P(WebSocketTest, ServiceIgnoringTheUpgradeAnswers200WithoutSwitching) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  PublicClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  auto plain = run(client.request(upgrade_request("/hello")));
  ASSERT_FALSE(plain.ec) << plain.ec.message();
  EXPECT_EQ(plain.status(), 200);
  EXPECT_EQ(plain.response.body(), "hello");
  EXPECT_EQ(plain.response.count(http::field::upgrade), 0u);
  EXPECT_EQ(plain.response.count("Dialback-Upgrade"), 0u);
  auto next = run(client.request(make_request(http::verb::get, "/bytes?n=10")));
  ASSERT_FALSE(next.ec) << next.ec.message();
  EXPECT_EQ(next.status(), 200);
  EXPECT_EQ(next.response.body(), pattern_bytes(10));
}

TEST_P(WebSocketTest, OtherUpgradesAreForwardedAsPlainRequests) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  // h2c must never cross the edge: the request goes up without Upgrade.
  auto result =
      run(fetch(public_endpoint(), make_request(http::verb::get, "/headers", std::string(kHost), {},
                                                {{"Upgrade", "h2c"},
                                                 {"Connection", "Upgrade, HTTP2-Settings"},
                                                 {"HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"}})));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body().find("upgrade"), std::string::npos) << result.response.body();
  EXPECT_EQ(result.response.body().find("http2-settings"), std::string::npos)
      << result.response.body();
}

TEST_P(WebSocketTest, NoLocalServiceIs502) {
  tcp::acceptor closed_port(executor_);  // bound, not listening: connects are refused
  closed_port.open(tcp::v4());
  closed_port.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = closed_port.local_endpoint().port();
  start_edge();
  start_agent({.upstream_url = "http://127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(wait_ready(1));

  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws", {}));
  EXPECT_EQ(handshake.ec, websocket::error::upgrade_declined) << handshake.ec.message();
  EXPECT_EQ(handshake.status(), 502);
  EXPECT_NE(handshake.response.body().find("local service"), std::string::npos)
      << handshake.response.body();
  EXPECT_EQ(handshake.response.body().find(std::to_string(port)), std::string::npos)
      << handshake.response.body();
}

TEST_P(WebSocketTest, RelaysBytesSentWithTheHeadsAndHalfClosesBothWays) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  // "early-" travels in the same write as the request head; the service's
  // "greeting:" in the same write as its 101. After "late" the client
  // half-closes; the service answers its EOF with ":bye" and a FIN.
  auto exchange = run(raw_upgrade(public_endpoint(),
                                  "GET /ws-raw HTTP/1.1\r\nHost: app.test\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\nearly-",
                                  "late"));
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_TRUE(exchange.head.starts_with("HTTP/1.1 101 ")) << exchange.head;
  EXPECT_NE(exchange.head.find("Upgrade: websocket\r\n"), std::string::npos) << exchange.head;
  EXPECT_NE(exchange.head.find("Connection: Upgrade\r\n"), std::string::npos) << exchange.head;
  EXPECT_EQ(exchange.rest, "greeting:early-late:bye");
  EXPECT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }));
}

TEST_P(WebSocketTest, ServiceClosingEndsThePublicConnection) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws", {}));
  ASSERT_FALSE(handshake.ec) << handshake.ec.message();

  auto last = run(round_trip(&ws, "close-now", true));
  EXPECT_TRUE(last.ec) << "the client did not see the service go away";
  ws.next_layer().close();
  EXPECT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }));
  EXPECT_TRUE(run_until([&] { return logs_->contains("upgrade=websocket"); }));
}

TEST_P(WebSocketTest, ClientVanishingClosesTheServiceConnection) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws", {}));
  ASSERT_FALSE(handshake.ec) << handshake.ec.message();
  auto echoed = run(round_trip(&ws, "one", true));
  ASSERT_FALSE(echoed.ec) << echoed.ec.message();
  ASSERT_EQ(upstream_->open_connections(), 1u);

  ws.next_layer().close();  // no close handshake, no goodbye
  EXPECT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }));

  // The tunnel is still good for the next one.
  WsStream again(executor_);
  auto second = run(open_websocket(&again, public_endpoint(), "/ws", {}));
  ASSERT_FALSE(second.ec) << second.ec.message();
  auto reply = run(round_trip(&again, "two", true));
  ASSERT_FALSE(reply.ec) << reply.ec.message();
  EXPECT_EQ(reply.data, "two");
  EXPECT_FALSE(run(close_websocket(&again)));
}

TEST_P(WebSocketTest, AgentShutdownEndsAnOpenWebSocket) {
  start_edge();
  auto& agent = start_agent();
  ASSERT_TRUE(wait_ready(1));
  WsStream ws(executor_);
  auto handshake = run(open_websocket(&ws, public_endpoint(), "/ws", {}));
  ASSERT_FALSE(handshake.ec) << handshake.ec.message();
  auto echoed = run(round_trip(&ws, "before", true));
  ASSERT_FALSE(echoed.ec) << echoed.ec.message();

  auto pending = spawn(read_message(&ws));
  // The drain deadline passes with the relay still open: it is cut off.
  shutdown_agent(agent, 200ms);
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }, 3s)) << "public client hangs";
  EXPECT_TRUE((*pending)->ec) << "read succeeded after the agent went away";
  EXPECT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Transports, WebSocketTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test
