// edge::IdleTimeoutStream over a fake tunnel stream (the test plays the
// agent on the answering end), with idle periods of 150 ms and progress
// every 25 ms where it must keep the stream alive.
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "edge/idle_timeout_stream.hpp"
#include "fake_streams.hpp"
#include "stream_test_util.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;
using edge::IdleTimeoutStream;

constexpr auto kIdle = 150ms;
constexpr auto kCadence = 25ms;  // well inside kIdle, even on a loaded machine

class IdleTimeoutStreamTest : public ::testing::Test {
 protected:
  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }
  asio::io_context io_;
};

// What on_idle was called with, if it was.
struct IdleCalls {
  int calls = 0;
  std::optional<bool> response_started;
};

std::unique_ptr<IdleTimeoutStream> wrap(FakeStreamPair& pair, asio::any_io_executor executor,
                                        IdleCalls& idle, Clock::duration first_byte = kIdle) {
  return std::make_unique<IdleTimeoutStream>(std::move(pair.opener), executor, kIdle, first_byte,
                                             [&idle](bool response_started) {
                                               ++idle.calls;
                                               idle.response_started = response_started;
                                             });
}

TEST_F(IdleTimeoutStreamTest, NoProgressBeforeTheHeadFailsWithTimeout) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/"), true);
    IdleCalls idle;
    const auto started = Clock::now();  // the idle period counts from the wrap
    auto stream = wrap(pair, executor, idle);

    auto head = co_await stream->read_response(in(5s));  // the response deadline is far away
    const auto waited = Clock::now() - started;
    EXPECT_EQ(error_of(head), code(Error::timeout));
    EXPECT_GE(waited, kIdle);
    EXPECT_LT(waited, 2s);
    EXPECT_TRUE(stream->timed_out());
    EXPECT_EQ(idle.calls, 1);
    EXPECT_EQ(idle.response_started, std::optional<bool>(false)) << "504 territory";
    EXPECT_EQ(pair.exchange->opener_error(), code(Error::timeout)) << "the tunnel stream is reset";
    auto agent_read = co_await pair.answerer->read_body();
    EXPECT_TRUE(agent_read && !agent_read->has_value()) << "GET: the request had ended";
    EXPECT_EQ(error_of(pair.answerer->respond({200, {}}, true)), code(Error::stream_reset));
  }());
}

TEST_F(IdleTimeoutStreamTest, NoProgressAfterTheHeadFailsTheBodyWithTimeout) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/events"), true);
    IdleCalls idle;
    auto stream = wrap(pair, executor, idle);

    EXPECT_TRUE(pair.answerer->respond({200, {{"content-type", "text/event-stream"}}}, false));
    auto head = co_await stream->read_response(in(5s));
    CO_ASSERT_TRUE(head);
    auto body = co_await stream->read_body();
    EXPECT_EQ(error_of(body), code(Error::timeout));
    EXPECT_EQ(idle.calls, 1);
    EXPECT_EQ(idle.response_started, std::optional<bool>(true)) << "the connection is closed";
  }());
}

TEST_F(IdleTimeoutStreamTest, ResponseBytesKeepItAlive) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/events"), true);
    IdleCalls idle;
    auto stream = wrap(pair, executor, idle);
    auto& agent = *pair.answerer;
    EXPECT_TRUE(agent.respond({200, {}}, false));

    // An event every kCadence for more than two idle periods.
    asio::co_spawn(
        executor,
        [](IncomingStream& a) -> Task<void> {
          for (int i = 0; i < 14; ++i) {
            co_await pause(kCadence);
            auto written = co_await a.write_body("event;");
            if (!written) co_return;
          }
          a.end_body();
        }(agent),
        asio::detached);

    auto head = co_await stream->read_response(in(5s));
    CO_ASSERT_TRUE(head);
    auto body = co_await read_all(*stream);
    CO_ASSERT_TRUE(body);
    EXPECT_EQ(body->size(), 14u * 6u);
    EXPECT_FALSE(stream->timed_out());
    EXPECT_EQ(idle.calls, 0);
  }());
}

TEST_F(IdleTimeoutStreamTest, AnUploadThatKeepsMovingKeepsItAlive) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head("POST", "/upload"), false);
    IdleCalls idle;
    auto stream = wrap(pair, executor, idle);
    auto& agent = *pair.answerer;

    // The agent reads the whole upload, then answers.
    asio::co_spawn(
        executor,
        [](IncomingStream& a) -> Task<void> {
          auto body = co_await read_all(a);
          if (body) a.respond({201, {}}, true);
        }(agent),
        asio::detached);
    // An upload chunk every kCadence for more than two idle periods, no response meanwhile.
    std::optional<Result<ResponseHead>> head;
    asio::co_spawn(
        executor,
        [](TunnelStream& s, std::optional<Result<ResponseHead>>& out) -> Task<void> {
          auto response = co_await s.read_response(in(5s));
          out = std::move(response);
        }(*stream, head),
        asio::detached);
    for (int i = 0; i < 14; ++i) {
      co_await pause(kCadence);
      auto written = co_await stream->write_body("chunk");
      EXPECT_TRUE(written);
    }
    EXPECT_TRUE(stream->end_body());

    const bool answered = co_await eventually([&] { return head.has_value(); }, in(5s));
    CO_ASSERT_TRUE(answered);
    CO_ASSERT_TRUE(*head);
    EXPECT_EQ((*head)->status, 201);
    EXPECT_FALSE(stream->timed_out());
    EXPECT_EQ(idle.calls, 0);
    EXPECT_EQ(pair.exchange->request_bytes(), 14u * 5u);
  }());
}

TEST_F(IdleTimeoutStreamTest, ADeclaredLengthWithoutBytesEndsAtTheFirstByteTimeout) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head("GET", "/file"), true);
    IdleCalls idle;
    auto stream = std::make_unique<IdleTimeoutStream>(std::move(pair.opener), executor, 5s, 60ms,
                                                      [&idle](bool started) {
                                                        ++idle.calls;
                                                        idle.response_started = started;
                                                      });
    EXPECT_TRUE(pair.answerer->respond({200, {{"content-length", "10"}}}, false));
    auto head = co_await stream->read_response(in(5s));
    CO_ASSERT_TRUE(head);
    const auto started = Clock::now();
    auto body = co_await stream->read_body();
    EXPECT_EQ(error_of(body), code(Error::timeout));
    EXPECT_LT(Clock::now() - started, 2s) << "first_byte_timeout, not the 5 s idle timeout";
    EXPECT_EQ(idle.response_started, std::optional<bool>(true));
  }());
}

}  // namespace
}  // namespace dialback::test
