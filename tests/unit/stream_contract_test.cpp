// The stream contract of tests/support/fake_streams.hpp, one typed suite run
// against the in-memory fakes and against a real HTTP/2 stream pair (two
// H2Connections over loopback TCP): what the fakes promise is what the h2
// transport does. The clause numbers refer to the list in fake_streams.hpp.
// Then the fakes' own extras (FakeExchange, FakeTunnelSession).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "fake_streams.hpp"
#include "fake_tunnel_session.hpp"
#include "h2_session_pair.hpp"
#include "stream_test_util.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;

// The most a writer may queue unread before write_body() waits (clause 5):
// the fake's write_buffer, and the h2 pair's send buffer and stream window.
constexpr std::size_t kWriteBuffer = 64u << 10;

struct Ends {
  std::unique_ptr<TunnelStream> opener;
  std::unique_ptr<IncomingStream> answerer;
};

// What a contract case needs from a transport.
class StreamHarness {
 public:
  virtual ~StreamHarness() = default;
  virtual Task<void> start() { co_return; }
  // Both ends of a new stream; null ends (and a recorded failure) when it failed.
  virtual Task<Ends> open(const RequestHead& head, bool end_stream) = 0;
  // The opener's session is closed with `reason` (clause 9).
  virtual void end_session(Error reason) = 0;
  virtual Task<void> stop() { co_return; }
};

class FakeHarness final : public StreamHarness {
 public:
  Task<Ends> open(const RequestHead& head, bool end_stream) override {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, head, end_stream, {kWriteBuffer});
    exchanges_.push_back(pair.exchange);
    co_return Ends{std::move(pair.opener), std::move(pair.answerer)};
  }
  void end_session(Error reason) override {
    for (auto& exchange : exchanges_) exchange->end_session(make_error_code(reason));
  }

 private:
  std::vector<std::shared_ptr<FakeExchange>> exchanges_;
};

class H2Harness final : public StreamHarness {
 public:
  Task<void> start() override {
    H2SessionPair::Options options;
    for (auto* settings : {&options.edge, &options.agent}) {
      settings->stream_send_buffer = kWriteBuffer;
      settings->stream_window = kWriteBuffer;
      settings->connection_window = 1u << 20;
    }
    pair_ = co_await H2SessionPair::connect(options);
  }
  Task<Ends> open(const RequestHead& head, bool end_stream) override {
    auto ends = co_await pair_->open(head, end_stream, in(5s));
    if (!ends) {
      ADD_FAILURE() << "h2 pair open: " << ends.error().message();
      co_return Ends{};
    }
    co_return Ends{std::move(ends->opener), std::move(ends->answerer)};
  }
  void end_session(Error reason) override { pair_->edge().close(reason); }
  Task<void> stop() override {
    if (!pair_) co_return;
    const bool stopped = co_await pair_->stop(in(5s));
    EXPECT_TRUE(stopped) << "the h2 pair's run() loops did not end";
  }

 private:
  std::unique_ptr<H2SessionPair> pair_;
};

using Case = Task<void> (*)(StreamHarness&);

template <class Harness>
class StreamContract : public ::testing::Test {
 protected:
  void run_case(Case body) {
    Harness harness;
    EXPECT_TRUE(run_task(io_, with_harness(harness, body), 20s));
  }

 private:
  static Task<void> with_harness(StreamHarness& harness, Case body) {
    co_await harness.start();
    co_await body(harness);
    co_await harness.stop();
  }

  asio::io_context io_;
};

struct HarnessNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, FakeHarness> ? "Fake" : "H2";
  }
};

using Harnesses = ::testing::Types<FakeHarness, H2Harness>;
TYPED_TEST_SUITE(StreamContract, Harnesses, HarnessNames);

// ---- clauses 1-3: heads, bodies, trailers, end of stream ----------------

Task<void> heads_bodies_and_trailers_in_order(StreamHarness& h) {
  const RequestHead head = make_request_head("POST", "/upload");
  auto ends = co_await h.open(head, false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;

  EXPECT_EQ(agent.request().method, "POST");
  EXPECT_EQ(agent.request().path, "/upload");
  EXPECT_EQ(agent.request().authority, "app.example.test");
  EXPECT_EQ(header_or_none(agent.request().headers, "x-test"), "1");
  EXPECT_TRUE(agent.has_body());

  auto first = co_await edge.write_body("hello ");
  EXPECT_TRUE(first);
  auto second = co_await edge.write_body("world");
  EXPECT_TRUE(second);
  EXPECT_TRUE(edge.end_body({{"x-checksum", "abc"}}));
  auto request_body = co_await read_all(agent);
  CO_ASSERT_TRUE(request_body);
  EXPECT_EQ(*request_body, "hello world");
  EXPECT_EQ(header_or_none(agent.trailers(), "x-checksum"), "abc");
  auto after_end = co_await agent.read_body();
  EXPECT_TRUE(after_end && !after_end->has_value()) << "a read after the end returns nullopt again";

  EXPECT_TRUE(agent.respond_informational({103, {{"link", "</a.css>; rel=preload"}}}));
  EXPECT_TRUE(agent.respond({200, {{"content-type", "text/plain"}}}, false));
  auto written = co_await agent.write_body("response body");
  EXPECT_TRUE(written);
  EXPECT_TRUE(agent.end_body({{"grpc-status", "0"}}));

  auto early = co_await edge.read_response(in(5s));
  CO_ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 103);
  EXPECT_EQ(header_or_none(early->headers, "link"), "</a.css>; rel=preload");
  auto final_head = co_await edge.read_response(in(5s));
  CO_ASSERT_TRUE(final_head);
  EXPECT_EQ(final_head->status, 200);
  EXPECT_EQ(header_or_none(final_head->headers, "content-type"), "text/plain");
  EXPECT_TRUE(edge.response_has_body());
  auto response_body = co_await read_all(edge);
  CO_ASSERT_TRUE(response_body);
  EXPECT_EQ(*response_body, "response body");
  EXPECT_EQ(header_or_none(edge.trailers(), "grpc-status"), "0");
  auto again = co_await edge.read_body();
  EXPECT_TRUE(again && !again->has_value());
}

Task<void> a_head_with_end_stream_ends_its_direction(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head("GET", "/"), true);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;

  EXPECT_FALSE(agent.has_body());
  EXPECT_TRUE(agent.body_ready());
  auto request_body = co_await agent.read_body();
  EXPECT_TRUE(request_body && !request_body->has_value());
  EXPECT_TRUE(agent.trailers().empty());
  EXPECT_TRUE(edge.end_body()) << "end_body() after a head with end_stream does nothing";

  EXPECT_TRUE(agent.respond({204, {}}, true));
  auto head = co_await edge.read_response(in(5s));
  CO_ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 204);
  EXPECT_FALSE(edge.response_has_body());
  auto response_body = co_await edge.read_body();
  EXPECT_TRUE(response_body && !response_body->has_value());
  EXPECT_TRUE(agent.end_body()) << "end_body() after respond(head, true) does nothing";
}

// ---- clauses 1, 2, 4: what is refused with protocol_error ---------------

Task<void> misuse_fails_with_protocol_error(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;

  EXPECT_EQ(error_of(agent.respond_informational({101, {}})), code(Error::protocol_error));
  EXPECT_EQ(error_of(agent.respond_informational({200, {}})), code(Error::protocol_error));
  auto early_write = co_await agent.write_body("before the head");
  EXPECT_EQ(error_of(early_write), code(Error::protocol_error));

  EXPECT_TRUE(edge.end_body());
  EXPECT_EQ(error_of(edge.end_body()), code(Error::protocol_error));
  auto late_write = co_await edge.write_body("after the end");
  EXPECT_EQ(error_of(late_write), code(Error::protocol_error));

  // The stream is still fine: the exchange completes.
  auto request_body = co_await read_all(agent);
  EXPECT_TRUE(request_body && request_body->empty());
  EXPECT_TRUE(agent.respond({200, {}}, true));
  auto head = co_await edge.read_response(in(5s));
  EXPECT_TRUE(head && head->status == 200);
}

// ---- clause 5: backpressure --------------------------------------------

Task<void> a_writer_waits_for_its_reader(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;
  auto executor = co_await asio::this_coro::executor;

  constexpr std::size_t kChunk = 16u << 10;
  constexpr std::size_t kTotal = 2u << 20;  // far beyond any buffer the writer may fill
  struct Writer {
    std::size_t written = 0;
    bool done = false;
    std::error_code error;
  } writer;
  asio::co_spawn(
      executor,
      [](TunnelStream& stream, Writer& w) -> Task<void> {
        const std::string chunk(kChunk, 'x');
        while (w.written < kTotal) {
          auto written = co_await stream.write_body(chunk);
          if (!written) {
            w.error = written.error();
            break;
          }
          w.written += chunk.size();
        }
        if (!w.error) stream.end_body();
        w.done = true;
      }(edge, writer),
      asio::detached);

  // Nobody reads: the writer must stop after a bounded amount.
  const bool finished_unread = co_await eventually([&] { return writer.done; }, in(300ms));
  EXPECT_FALSE(finished_unread) << "write_body() never waited for the reader";
  EXPECT_LE(writer.written, 8 * kWriteBuffer);

  auto body = co_await read_all(agent);
  CO_ASSERT_TRUE(body);
  EXPECT_EQ(body->size(), kTotal);
  const bool done = co_await eventually([&] { return writer.done; }, in(5s));
  EXPECT_TRUE(done);
  EXPECT_FALSE(writer.error) << writer.error.message();
  EXPECT_TRUE(agent.respond({200, {}}, true));
  auto head = co_await edge.read_response(in(5s));
  EXPECT_TRUE(head);
}

// ---- clause 6: deadlines ------------------------------------------------

Task<void> a_response_deadline_fails_with_timeout_and_keeps_the_stream(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head("GET", "/slow"), true);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;

  const auto started = Clock::now();
  auto timed_out = co_await edge.read_response(started + 50ms);
  EXPECT_EQ(error_of(timed_out), code(Error::timeout));
  EXPECT_GE(Clock::now() - started, 50ms);

  EXPECT_TRUE(agent.respond({200, {{"x-late", "yes"}}}, false));
  auto late_write = co_await agent.write_body("late");
  EXPECT_TRUE(late_write);
  EXPECT_TRUE(agent.end_body());
  auto head = co_await edge.read_response(in(5s));
  CO_ASSERT_TRUE(head);
  EXPECT_EQ(header_or_none(head->headers, "x-late"), "yes");
  auto body = co_await read_all(edge);
  EXPECT_TRUE(body && *body == "late");
}

// ---- clauses 7, 10, 12: reset from either side --------------------------

Task<void> an_opener_reset_fails_both_sides(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;
  int edge_aborts = 0;
  int agent_aborts = 0;
  edge.on_abort([&] { ++edge_aborts; });
  agent.on_abort([&] { ++agent_aborts; });

  auto written = co_await edge.write_body("partial");
  EXPECT_TRUE(written);
  auto chunk = co_await agent.read_body();
  EXPECT_TRUE(chunk && chunk->has_value() && **chunk == "partial");

  edge.reset(Error::timeout);
  EXPECT_EQ(edge_aborts + agent_aborts, 0) << "on_abort handlers run posted, not inside reset()";
  auto agent_read = co_await agent.read_body();
  EXPECT_EQ(error_of(agent_read), code(Error::stream_reset));
  auto edge_read = co_await edge.read_response(in(5s));
  EXPECT_EQ(error_of(edge_read), code(Error::timeout)) << "this side keeps its own reason";
  EXPECT_EQ(error_of(agent.respond({200, {}}, false)), code(Error::stream_reset));
  auto edge_write = co_await edge.write_body("more");
  EXPECT_EQ(error_of(edge_write), code(Error::timeout));
  EXPECT_EQ(error_of(edge.end_body()), code(Error::timeout));

  const bool both =
      co_await eventually([&] { return edge_aborts == 1 && agent_aborts == 1; }, in(5s));
  EXPECT_TRUE(both) << "edge " << edge_aborts << ", agent " << agent_aborts;
  co_await pause(20ms);
  EXPECT_EQ(edge_aborts, 1);
  EXPECT_EQ(agent_aborts, 1);
}

Task<void> an_answerer_reset_fails_both_sides(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;
  int edge_aborts = 0;
  edge.on_abort([&] { ++edge_aborts; });

  agent.reset(Error::cancelled);
  auto head = co_await edge.read_response(in(5s));
  EXPECT_EQ(error_of(head), code(Error::stream_reset));
  auto edge_write = co_await edge.write_body("too late");
  EXPECT_EQ(error_of(edge_write), code(Error::stream_reset));
  EXPECT_EQ(error_of(edge.end_body()), code(Error::stream_reset));
  auto agent_read = co_await agent.read_body();
  EXPECT_EQ(error_of(agent_read), code(Error::cancelled));
  EXPECT_EQ(error_of(agent.respond({200, {}}, true)), code(Error::cancelled));
  const bool aborted = co_await eventually([&] { return edge_aborts == 1; }, in(5s));
  EXPECT_TRUE(aborted);
}

Task<void> a_refusal_reaches_the_peer_as_stream_refused(StreamHarness& h) {
  for (const Error reason : {Error::stream_refused, Error::draining}) {
    auto ends = co_await h.open(make_request_head("GET", "/"), true);
    CO_ASSERT_TRUE(ends.opener && ends.answerer);
    ends.answerer->reset(reason);
    auto head = co_await ends.opener->read_response(in(5s));
    EXPECT_EQ(error_of(head), code(Error::stream_refused)) << error_name(reason);
  }
}

Task<void> chunks_queued_before_a_reset_are_still_read(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;
  bool agent_aborted = false;
  agent.on_abort([&] { agent_aborted = true; });

  auto written = co_await edge.write_body("queued");
  EXPECT_TRUE(written);
  const bool arrived = co_await eventually([&] { return agent.body_ready(); }, in(5s));
  EXPECT_TRUE(arrived);
  edge.reset(Error::cancelled);
  const bool reset_arrived = co_await eventually([&] { return agent_aborted; }, in(5s));
  CO_ASSERT_TRUE(reset_arrived);
  auto chunk = co_await agent.read_body();
  CO_ASSERT_TRUE(chunk && chunk->has_value());
  EXPECT_EQ(**chunk, "queued");
  auto next = co_await agent.read_body();
  EXPECT_EQ(error_of(next), code(Error::stream_reset));
}

// ---- clause 8: dropping a handle ---------------------------------------

Task<void> dropping_an_incomplete_handle_resets_the_stream(StreamHarness& h) {
  {
    auto ends = co_await h.open(make_request_head("GET", "/"), true);
    CO_ASSERT_TRUE(ends.opener && ends.answerer);
    ends.answerer.reset();  // never answered
    auto head = co_await ends.opener->read_response(in(5s));
    EXPECT_EQ(error_of(head), code(Error::stream_reset));
  }
  {
    auto ends = co_await h.open(make_request_head(), false);
    CO_ASSERT_TRUE(ends.opener && ends.answerer);
    ends.opener.reset();  // the request body never ended
    auto body = co_await ends.answerer->read_body();
    EXPECT_EQ(error_of(body), code(Error::stream_reset));
  }
}

// ---- clause 9: session end ---------------------------------------------

Task<void> a_session_end_fails_both_sides(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;
  int edge_aborts = 0;
  int agent_aborts = 0;
  edge.on_abort([&] { ++edge_aborts; });
  agent.on_abort([&] { ++agent_aborts; });
  auto executor = co_await asio::this_coro::executor;

  // A read pending when the session ends.
  std::optional<Result<ResponseHead>> pending;
  asio::co_spawn(
      executor,
      [](TunnelStream& stream, std::optional<Result<ResponseHead>>& out) -> Task<void> {
        auto head = co_await stream.read_response(in(5s));
        out = std::move(head);
      }(edge, pending),
      asio::detached);
  co_await pause(10ms);

  h.end_session(Error::ping_timeout);
  const bool failed = co_await eventually([&] { return pending.has_value(); }, in(5s));
  CO_ASSERT_TRUE(failed);
  EXPECT_EQ(error_of(*pending), code(Error::ping_timeout));
  auto agent_read = co_await agent.read_body();
  EXPECT_FALSE(agent_read) << "the answerer fails too";
  auto edge_write = co_await edge.write_body("x");
  EXPECT_EQ(error_of(edge_write), code(Error::ping_timeout));
  const bool both =
      co_await eventually([&] { return edge_aborts == 1 && agent_aborts == 1; }, in(5s));
  EXPECT_TRUE(both) << "edge " << edge_aborts << ", agent " << agent_aborts;
}

// ---- clause 10: on_abort -----------------------------------------------

Task<void> on_abort_installed_late_runs_and_a_new_handler_replaces_the_old(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head("GET", "/"), true);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  int replaced = 0;
  int late = 0;
  ends.opener->on_abort([&] { ++replaced; });
  ends.opener->on_abort([&] { ++late; });  // replaces
  ends.answerer->reset(Error::cancelled);
  auto head = co_await ends.opener->read_response(in(5s));
  EXPECT_FALSE(head);
  const bool ran = co_await eventually([&] { return late == 1; }, in(5s));
  EXPECT_TRUE(ran);
  EXPECT_EQ(replaced, 0);

  int installed_after = 0;
  ends.opener->on_abort([&] { ++installed_after; });
  const bool ran_after = co_await eventually([&] { return installed_after == 1; }, in(5s));
  EXPECT_TRUE(ran_after) << "a handler installed after the abort runs too";
}

Task<void> on_abort_never_runs_after_a_normal_end_or_a_drop(StreamHarness& h) {
  int aborts = 0;
  {
    auto ends = co_await h.open(make_request_head("GET", "/"), true);
    CO_ASSERT_TRUE(ends.opener && ends.answerer);
    ends.opener->on_abort([&] { ++aborts; });
    ends.answerer->on_abort([&] { ++aborts; });
    EXPECT_TRUE(ends.answerer->respond({200, {}}, false));
    auto written = co_await ends.answerer->write_body("done");
    EXPECT_TRUE(written);
    EXPECT_TRUE(ends.answerer->end_body());
    auto head = co_await ends.opener->read_response(in(5s));
    EXPECT_TRUE(head);
    auto body = co_await read_all(*ends.opener);
    EXPECT_TRUE(body && *body == "done");
    co_await pause(50ms);                  // what a transport still had to process about the stream
    ends.opener->reset(Error::cancelled);  // clause 7: nothing left to abort
    co_await pause(50ms);
  }
  EXPECT_EQ(aborts, 0) << "on_abort after a completed exchange";
  {
    auto ends = co_await h.open(make_request_head("GET", "/"), true);
    CO_ASSERT_TRUE(ends.opener && ends.answerer);
    ends.answerer->on_abort([&] { ++aborts; });
    ends.opener->reset(Error::cancelled);
    ends.answerer.reset();  // destroyed before the reset reached it
    co_await pause(50ms);
  }
  EXPECT_EQ(aborts, 0) << "on_abort after the handle was destroyed";
}

// ---- clause 11: body_ready ----------------------------------------------

Task<void> body_ready_tells_whether_a_read_would_wait(StreamHarness& h) {
  auto ends = co_await h.open(make_request_head(), false);
  CO_ASSERT_TRUE(ends.opener && ends.answerer);
  TunnelStream& edge = *ends.opener;
  IncomingStream& agent = *ends.answerer;

  EXPECT_FALSE(agent.body_ready());
  auto written = co_await edge.write_body("one");
  EXPECT_TRUE(written);
  const bool queued = co_await eventually([&] { return agent.body_ready(); }, in(5s));
  EXPECT_TRUE(queued);
  auto chunk = co_await agent.read_body();
  EXPECT_TRUE(chunk && chunk->has_value() && **chunk == "one");
  EXPECT_FALSE(agent.body_ready());
  EXPECT_TRUE(edge.end_body());
  const bool ended = co_await eventually([&] { return agent.body_ready(); }, in(5s));
  EXPECT_TRUE(ended);
  auto end = co_await agent.read_body();
  EXPECT_TRUE(end && !end->has_value());

  EXPECT_TRUE(agent.respond({200, {}}, false));
  EXPECT_FALSE(edge.body_ready());
  agent.reset(Error::cancelled);
  const bool failed = co_await eventually([&] { return edge.body_ready(); }, in(5s));
  EXPECT_TRUE(failed) << "a failed stream is ready: the read fails at once";
}

TYPED_TEST(StreamContract, HeadsBodiesAndTrailersInOrder) {
  this->run_case(&heads_bodies_and_trailers_in_order);
}
TYPED_TEST(StreamContract, AHeadWithEndStreamEndsItsDirection) {
  this->run_case(&a_head_with_end_stream_ends_its_direction);
}
TYPED_TEST(StreamContract, MisuseFailsWithProtocolError) {
  this->run_case(&misuse_fails_with_protocol_error);
}
TYPED_TEST(StreamContract, AWriterWaitsForItsReader) {
  this->run_case(&a_writer_waits_for_its_reader);
}
TYPED_TEST(StreamContract, AResponseDeadlineFailsWithTimeoutAndKeepsTheStream) {
  this->run_case(&a_response_deadline_fails_with_timeout_and_keeps_the_stream);
}
TYPED_TEST(StreamContract, AnOpenerResetFailsBothSides) {
  this->run_case(&an_opener_reset_fails_both_sides);
}
TYPED_TEST(StreamContract, AnAnswererResetFailsBothSides) {
  this->run_case(&an_answerer_reset_fails_both_sides);
}
TYPED_TEST(StreamContract, ARefusalReachesThePeerAsStreamRefused) {
  this->run_case(&a_refusal_reaches_the_peer_as_stream_refused);
}
TYPED_TEST(StreamContract, ChunksQueuedBeforeAResetAreStillRead) {
  this->run_case(&chunks_queued_before_a_reset_are_still_read);
}
TYPED_TEST(StreamContract, DroppingAnIncompleteHandleResetsTheStream) {
  this->run_case(&dropping_an_incomplete_handle_resets_the_stream);
}
TYPED_TEST(StreamContract, ASessionEndFailsBothSides) {
  this->run_case(&a_session_end_fails_both_sides);
}
TYPED_TEST(StreamContract, OnAbortInstalledLateRunsAndANewHandlerReplacesTheOld) {
  this->run_case(&on_abort_installed_late_runs_and_a_new_handler_replaces_the_old);
}
TYPED_TEST(StreamContract, OnAbortNeverRunsAfterANormalEndOrADrop) {
  this->run_case(&on_abort_never_runs_after_a_normal_end_or_a_drop);
}
TYPED_TEST(StreamContract, BodyReadyTellsWhetherAReadWouldWait) {
  this->run_case(&body_ready_tells_whether_a_read_would_wait);
}

// ---- the fakes' own extras ----------------------------------------------

class FakeStreamsTest : public ::testing::Test {
 protected:
  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }
  asio::io_context io_;
};

TEST_F(FakeStreamsTest, TheExchangeRecordsWhatHappened) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head(), false);
    auto written = co_await pair.opener->write_body("12345");
    EXPECT_TRUE(written);
    EXPECT_EQ(pair.exchange->request_bytes(), 5u);
    EXPECT_FALSE(pair.exchange->request_ended());
    EXPECT_TRUE(pair.opener->end_body());
    EXPECT_TRUE(pair.exchange->request_ended());
    EXPECT_FALSE(pair.exchange->complete());
    EXPECT_TRUE(pair.answerer->respond({200, {}}, true));
    EXPECT_TRUE(pair.exchange->complete());
    pair.answerer->reset(Error::cancelled);  // after completion: nothing to abort
    EXPECT_FALSE(pair.exchange->aborted());
    EXPECT_FALSE(pair.exchange->opener_error());
  }());
}

TEST_F(FakeStreamsTest, AResetRecordsBothSidesErrors) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    auto pair = make_fake_stream_pair(executor, make_request_head(), false);
    pair.opener->reset(Error::timeout);
    EXPECT_TRUE(pair.exchange->aborted());
    EXPECT_EQ(pair.exchange->opener_error(), code(Error::timeout));
    EXPECT_EQ(pair.exchange->answerer_error(), code(Error::stream_reset));
    pair.answerer->reset(Error::stream_refused);  // already aborted: the first reason stays
    EXPECT_EQ(pair.exchange->opener_error(), code(Error::timeout));
  }());
}

TEST_F(FakeStreamsTest, TheSessionOpensFailsAndCloses) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    SessionIdentity identity;
    identity.session_id = "s1";
    FakeTunnelSession session(executor, identity);
    EXPECT_TRUE(session.accepting());

    auto opened = co_await session.open_stream(make_request_head("GET", "/a"), true);
    CO_ASSERT_TRUE(opened);
    auto incoming = co_await session.next_incoming(in(1s));
    CO_ASSERT_TRUE(incoming != nullptr);
    EXPECT_EQ(incoming->request().path, "/a");
    EXPECT_EQ(session.stats().inflight, 1u);
    auto none = co_await session.next_incoming(in(20ms));
    EXPECT_EQ(none, nullptr);

    session.fail_opens(code(Error::stream_refused));
    auto refused = co_await session.open_stream(make_request_head(), true);
    EXPECT_EQ(error_of(refused), code(Error::stream_refused));
    EXPECT_EQ(session.open_calls(), 2u);

    session.close(Error::ping_timeout);
    EXPECT_FALSE(session.accepting());
    auto head = co_await (*opened)->read_response(in(1s));
    EXPECT_EQ(error_of(head), code(Error::ping_timeout));
    auto read = co_await incoming->read_body();
    EXPECT_TRUE(read && !read->has_value()) << "its request had ended: nothing to fail";
    auto reason = co_await session.run();
    EXPECT_EQ(reason, code(Error::ping_timeout));
  }());
}

TEST_F(FakeStreamsTest, DrainWaitsForStreamsThenCutsThemOff) {
  run([]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, {});
    auto opened = co_await session.open_stream(make_request_head("GET", "/"), true);
    CO_ASSERT_TRUE(opened);
    auto cut = co_await session.drain(in(50ms));
    EXPECT_EQ(cut, 1u);
    auto head = co_await (*opened)->read_response(in(1s));
    EXPECT_EQ(error_of(head), code(Error::timeout));
  }());
}

}  // namespace
}  // namespace dialback::test
