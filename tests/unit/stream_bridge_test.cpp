// StreamBridge over fake streams: a public exchange (the test plays the
// public client on its opening end, the bridge gets its IncomingStream) and
// a tunnel exchange (the bridge gets its TunnelStream, the test plays the
// agent on the answering end).
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "fake_streams.hpp"
#include "stream_test_util.hpp"
#include "tunnel/stream_bridge.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;

struct BridgeSetup {
  FakeStreamPair public_side;  // opener: the public client; answerer: the bridge's client
  FakeStreamPair tunnel;       // opener: the bridge's server; answerer: the agent
};

BridgeSetup make_setup(asio::any_io_executor executor, const RequestHead& head, bool end_stream) {
  return {make_fake_stream_pair(executor, head, end_stream),
          make_fake_stream_pair(executor, head, end_stream)};
}

class StreamBridgeTest : public ::testing::Test {
 protected:
  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }
  asio::io_context io_;
};

TEST_F(StreamBridgeTest, RelaysTheRequestBodyAndTheResponseWithTrailers) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("POST", "/items"), false);
    auto& client = *s.public_side.opener;
    auto& agent = *s.tunnel.answerer;
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);

    auto up1 = co_await client.write_body("up-1 ");
    EXPECT_TRUE(up1);
    auto up2 = co_await client.write_body("up-2");
    EXPECT_TRUE(up2);
    EXPECT_TRUE(client.end_body({{"x-upload-digest", "d1"}}));
    auto request_body = co_await read_all(agent);
    CO_ASSERT_TRUE(request_body);
    EXPECT_EQ(*request_body, "up-1 up-2");
    EXPECT_EQ(header_or_none(agent.trailers(), "x-upload-digest"), "d1");

    EXPECT_TRUE(agent.respond_informational({100, {}}));
    EXPECT_TRUE(agent.respond({200, {{"content-type", "text/plain"}}}, false));
    auto down = co_await agent.write_body("down-body");
    EXPECT_TRUE(down);
    EXPECT_TRUE(agent.end_body({{"grpc-status", "0"}}));

    auto head = co_await bridge.read_response(in(5s));
    CO_ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    auto relayed = co_await bridge.relay_response(*head);
    CO_ASSERT_TRUE(relayed);
    EXPECT_EQ(*relayed, 9u);
    co_await bridge.finish();
    EXPECT_FALSE(bridge.body_too_large());

    auto interim = co_await client.read_response(in(5s));
    CO_ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100) << "1xx heads go on to the client";
    auto final_head = co_await client.read_response(in(5s));
    CO_ASSERT_TRUE(final_head);
    EXPECT_EQ(final_head->status, 200);
    EXPECT_EQ(header_or_none(final_head->headers, "content-type"), "text/plain");
    auto response_body = co_await read_all(client);
    CO_ASSERT_TRUE(response_body);
    EXPECT_EQ(*response_body, "down-body");
    EXPECT_EQ(header_or_none(client.trailers(), "grpc-status"), "0");

    EXPECT_TRUE(s.public_side.exchange->complete());
    EXPECT_TRUE(s.tunnel.exchange->complete());
    EXPECT_FALSE(s.public_side.exchange->aborted());
    EXPECT_FALSE(s.tunnel.exchange->aborted());
  }());
}

TEST_F(StreamBridgeTest, AHeadThatEndsTheResponseStaysOneFrame) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("HEAD", "/"), true);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);
    co_await bridge.finish();  // no request body: nothing to wait for

    EXPECT_TRUE(s.tunnel.answerer->respond({200, {{"grpc-status", "5"}}}, true));
    auto head = co_await bridge.read_response(in(5s));
    CO_ASSERT_TRUE(head);
    auto relayed = co_await bridge.relay_response(*head);
    EXPECT_TRUE(relayed && *relayed == 0u);
    auto client_head = co_await s.public_side.opener->read_response(in(5s));
    CO_ASSERT_TRUE(client_head);
    EXPECT_EQ(header_or_none(client_head->headers, "grpc-status"), "5");
    EXPECT_FALSE(s.public_side.opener->response_has_body());
    EXPECT_TRUE(s.public_side.exchange->complete());
  }());
}

TEST_F(StreamBridgeTest, AClientResetBeforeTheHeadResetsTheServerStream) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("POST", "/"), false);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);
    auto sent = co_await s.public_side.opener->write_body("some");
    EXPECT_TRUE(sent);
    auto arrived = co_await s.tunnel.answerer->read_body();
    EXPECT_TRUE(arrived && arrived->has_value());

    s.public_side.opener->reset(Error::cancelled);  // the public client leaves
    auto head = co_await bridge.read_response(in(5s));
    EXPECT_EQ(error_of(head), code(Error::cancelled));
    auto agent_read = co_await s.tunnel.answerer->read_body();
    EXPECT_EQ(error_of(agent_read), code(Error::stream_reset));
    EXPECT_EQ(s.tunnel.exchange->opener_error(), code(Error::cancelled));
    co_await bridge.finish();
  }());
}

TEST_F(StreamBridgeTest, AServerResetBeforeTheHeadIsTheCallersToAnswer) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("GET", "/"), true);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);

    s.tunnel.answerer->reset(Error::cancelled);  // the agent resets
    auto head = co_await bridge.read_response(in(5s));
    EXPECT_EQ(error_of(head), code(Error::stream_reset));
    co_await bridge.finish();
    EXPECT_FALSE(s.public_side.exchange->aborted()) << "the caller answers the client (502)";
  }());
}

TEST_F(StreamBridgeTest, AServerResetDuringTheBodyResetsTheClient) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("GET", "/"), true);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);
    auto& agent = *s.tunnel.answerer;

    EXPECT_TRUE(agent.respond({200, {}}, false));
    auto part = co_await agent.write_body("part");
    EXPECT_TRUE(part);
    auto head = co_await bridge.read_response(in(5s));
    CO_ASSERT_TRUE(head);
    agent.reset(Error::cancelled);
    auto relayed = co_await bridge.relay_response(*head);
    EXPECT_EQ(error_of(relayed), code(Error::stream_reset));
    co_await bridge.finish();

    auto& client = *s.public_side.opener;
    auto client_head = co_await client.read_response(in(5s));
    EXPECT_TRUE(client_head && client_head->status == 200);
    auto chunk = co_await client.read_body();
    EXPECT_TRUE(chunk && chunk->has_value() && **chunk == "part");
    auto next = co_await client.read_body();
    EXPECT_EQ(error_of(next), code(Error::stream_reset)) << "the client stream is reset";
  }());
}

TEST_F(StreamBridgeTest, AClientResetDuringTheBodyResetsTheServer) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("GET", "/stream"), true);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor);
    auto& agent = *s.tunnel.answerer;
    auto& client = *s.public_side.opener;

    EXPECT_TRUE(agent.respond({200, {}}, false));
    auto first = co_await agent.write_body("event-1");
    EXPECT_TRUE(first);
    auto head = co_await bridge.read_response(in(5s));
    CO_ASSERT_TRUE(head);
    std::optional<Result<std::uint64_t>> relayed;
    asio::co_spawn(
        executor,
        [](StreamBridge& b, ResponseHead h,
           std::optional<Result<std::uint64_t>>& out) -> Task<void> {
          auto result = co_await b.relay_response(h);
          out = result;
        }(bridge, *head, relayed),
        asio::detached);

    auto client_head = co_await client.read_response(in(5s));
    EXPECT_TRUE(client_head);
    auto event = co_await client.read_body();
    EXPECT_TRUE(event && event->has_value() && **event == "event-1");
    client.reset(Error::cancelled);  // the public client leaves mid-stream

    const bool ended = co_await eventually([&] { return relayed.has_value(); }, in(5s));
    CO_ASSERT_TRUE(ended);
    EXPECT_FALSE(*relayed);
    auto more = co_await agent.write_body("event-2");
    EXPECT_EQ(error_of(more), code(Error::stream_reset)) << "the agent's stream is reset";
    co_await bridge.finish();
  }());
}

TEST_F(StreamBridgeTest, ARequestBodyOverTheLimitResetsTheServer) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto s = make_setup(executor, make_request_head("POST", "/"), false);
    StreamBridge bridge(*s.public_side.answerer, *s.tunnel.opener, executor, 5);

    auto sent = co_await s.public_side.opener->write_body("123456");
    EXPECT_TRUE(sent);
    co_await bridge.finish();
    EXPECT_TRUE(bridge.body_too_large());
    auto agent_read = co_await s.tunnel.answerer->read_body();
    EXPECT_EQ(error_of(agent_read), code(Error::stream_reset));
    auto head = co_await bridge.read_response(in(5s));
    EXPECT_FALSE(head);
  }());
}

}  // namespace
}  // namespace dialback::test
