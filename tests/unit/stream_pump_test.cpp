// pump_stream_body over fake streams: `from` is the answering end of one
// exchange (its opener writes the body), `to` the opening end of another
// (its answerer reads what was pumped).
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "fake_streams.hpp"
#include "stream_test_util.hpp"
#include "tunnel/stream_pump.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;

class StreamPumpTest : public ::testing::Test {
 protected:
  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }
  asio::io_context io_;
};

struct PumpSetup {
  FakeStreamPair source;  // source.opener writes; source.answerer is `from`
  FakeStreamPair sink;    // sink.opener is `to`; sink.answerer reads
};

PumpSetup make_pump_setup(asio::any_io_executor executor, FakeStreamOptions sink_options = {}) {
  return {make_fake_stream_pair(executor, make_request_head(), false),
          make_fake_stream_pair(executor, make_request_head(), false, sink_options)};
}

// Runs the pump in the background; `out` fills when it returns.
Task<void> pump_into(StreamBody& from, StreamBody& to, std::uint64_t limit,
                     std::optional<Result<std::uint64_t>>& out) {
  auto pumped = co_await pump_stream_body(from, to, limit);
  out = pumped;
}

TEST_F(StreamPumpTest, CopiesAndCountsTheBodyThenEndsWithTheTrailers) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor);
    std::optional<Result<std::uint64_t>> pumped;
    asio::co_spawn(executor, pump_into(*p.source.answerer, *p.sink.opener, 0, pumped),
                   asio::detached);

    const std::string big(100'000, 'b');
    for (const std::string_view chunk : {std::string_view("first "), std::string_view(big)}) {
      auto written = co_await p.source.opener->write_body(chunk);
      EXPECT_TRUE(written);
    }
    EXPECT_TRUE(p.source.opener->end_body({{"x-digest", "42"}}));
    auto copied = co_await read_all(*p.sink.answerer);
    CO_ASSERT_TRUE(copied);
    EXPECT_EQ(*copied, "first " + big);
    EXPECT_EQ(header_or_none(p.sink.answerer->trailers(), "x-digest"), "42");

    const bool done = co_await eventually([&] { return pumped.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    CO_ASSERT_TRUE(*pumped);
    EXPECT_EQ(**pumped, 6u + big.size());
    EXPECT_FALSE(p.source.exchange->aborted());
    EXPECT_FALSE(p.sink.exchange->aborted());
  }());
}

TEST_F(StreamPumpTest, StopsAtTheEndOfAnEmptyBody) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor);
    EXPECT_TRUE(p.source.opener->end_body());
    auto pumped = co_await pump_stream_body(*p.source.answerer, *p.sink.opener);
    CO_ASSERT_TRUE(pumped);
    EXPECT_EQ(*pumped, 0u);
    EXPECT_TRUE(p.sink.exchange->request_ended());
    EXPECT_EQ(p.sink.exchange->request_bytes(), 0u);
  }());
}

TEST_F(StreamPumpTest, WaitsForTheSinkBeforeReadingMore) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor, FakeStreamOptions{8});
    std::optional<Result<std::uint64_t>> pumped;
    asio::co_spawn(executor, pump_into(*p.source.answerer, *p.sink.opener, 0, pumped),
                   asio::detached);
    for (int i = 0; i < 4; ++i) {
      auto written = co_await p.source.opener->write_body("12345678");
      EXPECT_TRUE(written);
    }
    EXPECT_TRUE(p.source.opener->end_body());
    // The sink's reader reads nothing: the pump holds one chunk in the
    // sink and reads no further.
    co_await pause(30ms);
    EXPECT_EQ(p.sink.exchange->request_bytes(), 8u);
    EXPECT_FALSE(pumped.has_value());
    auto copied = co_await read_all(*p.sink.answerer);
    EXPECT_TRUE(copied && copied->size() == 32u);
    const bool done = co_await eventually([&] { return pumped.has_value(); }, in(5s));
    EXPECT_TRUE(done);
  }());
}

TEST_F(StreamPumpTest, AReadErrorIsTheSourcesOwn) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor);
    std::optional<Result<std::uint64_t>> pumped;
    asio::co_spawn(executor, pump_into(*p.source.answerer, *p.sink.opener, 0, pumped),
                   asio::detached);
    auto written = co_await p.source.opener->write_body("abc");
    EXPECT_TRUE(written);
    auto arrived = co_await p.sink.answerer->read_body();
    EXPECT_TRUE(arrived && arrived->has_value());
    p.source.opener->reset(Error::cancelled);  // the source's peer goes away

    const bool done = co_await eventually([&] { return pumped.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    EXPECT_EQ(error_of(*pumped), code(Error::stream_reset));
    EXPECT_FALSE(p.sink.exchange->aborted()) << "the pump resets neither stream";
    EXPECT_FALSE(p.sink.exchange->request_ended()) << "nor ends the sink's body";
  }());
}

TEST_F(StreamPumpTest, AWriteErrorIsCancelled) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor);
    std::optional<Result<std::uint64_t>> pumped;
    asio::co_spawn(executor, pump_into(*p.source.answerer, *p.sink.opener, 0, pumped),
                   asio::detached);
    p.sink.answerer->reset(Error::cancelled);  // the sink's peer goes away
    auto written = co_await p.source.opener->write_body("abc");
    EXPECT_TRUE(written);

    const bool done = co_await eventually([&] { return pumped.has_value(); }, in(5s));
    CO_ASSERT_TRUE(done);
    EXPECT_EQ(error_of(*pumped), code(Error::cancelled));
    EXPECT_FALSE(p.source.exchange->aborted()) << "the pump resets neither stream";
  }());
}

TEST_F(StreamPumpTest, FailsOverTheLimit) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto p = make_pump_setup(executor);
    auto written = co_await p.source.opener->write_body("0123456789");
    EXPECT_TRUE(written);
    EXPECT_TRUE(p.source.opener->end_body());
    auto pumped = co_await pump_stream_body(*p.source.answerer, *p.sink.opener, 9);
    EXPECT_EQ(error_of(pumped), code(Error::limit_exceeded));
    EXPECT_EQ(p.sink.exchange->request_bytes(), 0u) << "the chunk over the limit is not written";
  }());
}

}  // namespace
}  // namespace dialback::test
