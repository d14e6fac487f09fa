// relay_bytes between a loopback TCP socket and a fake stream, as the agent
// runs it after an upgrade: the relay owns one socket of a connected pair
// and the answering end of a stream; the test plays the local service on
// the other socket and the edge on the stream's opening end.
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "fake_streams.hpp"
#include "stream_test_util.hpp"
#include "tunnel/stream_relay.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;

class StreamRelayTest : public ::testing::Test {
 protected:
  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }
  asio::io_context io_;
};

struct SocketPair {
  tcp::socket relayed;  // the relay's end
  tcp::socket service;  // the test's end
};

Task<SocketPair> connect_pair() {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket relayed(executor);
  co_await relayed.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
  tcp::socket service = co_await acceptor.async_accept(asio::use_awaitable);
  co_return SocketPair{std::move(relayed), std::move(service)};
}

Task<void> relay_into(tcp::socket& socket, StreamBody& stream, std::string pending,
                      std::optional<RelayResult>& out) {
  auto result = co_await relay_bytes(socket, stream, std::move(pending));
  out = result;
}

// Reads from `stream` until `size` bytes came (or it ended or failed).
Task<Result<std::string>> read_at_least(StreamBody& stream, std::size_t size) {
  std::string all;
  while (all.size() < size) {
    auto chunk = co_await stream.read_body();
    if (!chunk) co_return fail(chunk.error());
    if (!chunk->has_value()) break;
    all += **chunk;
  }
  co_return all;
}

// Reads until EOF or an error: the bytes and how it ended.
struct SocketRead {
  std::string bytes;
  error_code ec;
};
Task<SocketRead> read_to_end(tcp::socket& socket) {
  SocketRead read;
  std::string buffer(4096, '\0');
  for (;;) {
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buffer), nothrow(read.ec));
    read.bytes.append(buffer.data(), n);
    if (read.ec) co_return read;
  }
}

TEST_F(StreamRelayTest, MovesBytesBothWaysAndCarriesHalfClose) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto sockets = co_await connect_pair();
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/ws"), false);
    EXPECT_TRUE(pair.answerer->respond({200, {}}, false));
    auto& edge = *pair.opener;
    std::optional<RelayResult> result;
    asio::co_spawn(executor, relay_into(sockets.relayed, *pair.answerer, "early|", result),
                   asio::detached);

    // service -> stream, after the pending bytes
    error_code ec;
    co_await asio::async_write(sockets.service, asio::buffer(std::string_view("ping")),
                               nothrow(ec));
    EXPECT_FALSE(ec);
    auto up = co_await read_at_least(edge, 10);
    CO_ASSERT_TRUE(up);
    EXPECT_EQ(*up, "early|ping");

    // stream -> service
    auto down = co_await edge.write_body("pong");
    EXPECT_TRUE(down);
    std::string got(4, '\0');
    co_await asio::async_read(sockets.service, asio::buffer(got), nothrow(ec));
    EXPECT_FALSE(ec);
    EXPECT_EQ(got, "pong");

    // The service half-closes: the stream's body ends, the other way stays open.
    sockets.service.shutdown(tcp::socket::shutdown_send, ec);
    auto ended = co_await edge.read_body();
    EXPECT_TRUE(ended && !ended->has_value());
    auto still = co_await edge.write_body("after-fin");
    EXPECT_TRUE(still);
    EXPECT_TRUE(edge.end_body());
    auto rest = co_await read_to_end(sockets.service);
    EXPECT_EQ(rest.bytes, "after-fin");
    EXPECT_EQ(rest.ec, asio::error::eof) << "the stream's end shuts the socket's sending side";

    const bool done = co_await eventually([&] { return result.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    EXPECT_FALSE(result->error) << result->error.message();
    EXPECT_EQ(result->to_stream, 10u);
    EXPECT_EQ(result->to_socket, 13u);
    EXPECT_FALSE(pair.exchange->aborted());
    EXPECT_TRUE(pair.exchange->complete());
  }());
}

TEST_F(StreamRelayTest, ASocketPeerThatVanishesResetsTheStream) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto sockets = co_await connect_pair();
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/ws"), false);
    EXPECT_TRUE(pair.answerer->respond({200, {}}, false));
    std::optional<RelayResult> result;
    asio::co_spawn(executor, relay_into(sockets.relayed, *pair.answerer, "", result),
                   asio::detached);

    error_code ec;
    co_await asio::async_write(sockets.service, asio::buffer(std::string_view("abc")), nothrow(ec));
    auto up = co_await read_at_least(*pair.opener, 3);
    EXPECT_TRUE(up && *up == "abc");
    // Gone without a FIN: linger 0 makes close() send a RST.
    sockets.service.set_option(asio::socket_base::linger(true, 0), ec);
    sockets.service.close(ec);

    auto next = co_await pair.opener->read_body();
    EXPECT_EQ(error_of(next), code(Error::stream_reset)) << "the stream is reset";
    const bool done = co_await eventually([&] { return result.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    EXPECT_TRUE(result->error) << "the relay reports the socket's failure";
    EXPECT_EQ(result->to_stream, 3u);
  }());
}

TEST_F(StreamRelayTest, AStreamPeerThatVanishesClosesTheSocket) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto sockets = co_await connect_pair();
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/ws"), false);
    EXPECT_TRUE(pair.answerer->respond({200, {}}, false));
    std::optional<RelayResult> result;
    asio::co_spawn(executor, relay_into(sockets.relayed, *pair.answerer, "", result),
                   asio::detached);

    auto down = co_await pair.opener->write_body("hello");
    EXPECT_TRUE(down);
    std::string got(5, '\0');
    error_code ec;
    co_await asio::async_read(sockets.service, asio::buffer(got), nothrow(ec));
    EXPECT_EQ(got, "hello");
    pair.opener.reset();  // the edge's end goes away mid-stream

    auto rest = co_await read_to_end(sockets.service);
    EXPECT_TRUE(rest.bytes.empty());
    EXPECT_TRUE(rest.ec) << "the service's socket is closed";
    const bool done = co_await eventually([&] { return result.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    EXPECT_EQ(result->error, code(Error::stream_reset));
    EXPECT_EQ(result->to_socket, 5u);
  }());
}

}  // namespace
}  // namespace dialback::test
