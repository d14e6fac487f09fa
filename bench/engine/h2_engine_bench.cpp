// h2_engine_bench: request round trips through an edge H2Engine (HTTP/2
// client) and an agent H2Engine (HTTP/2 server) wired in memory
// (EngineLink). Measures the engines alone: no sockets, no TLS, no
// coroutines. Besides time, it reports the heap allocations of a round trip
// (counting_allocator.cpp counts every one, nghttp2's included) and the
// bytes both engines wrote for it (HTTP/2 framing and HPACK included).
//
// DIALBACK_ALLOC_TRACE=1 prints a backtrace of every allocation of one
// warmed-up round trip per benchmark to stderr.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "counting_allocator.hpp"
#include "engine/engine_link.hpp"
#include "transport/h2/h2_headers.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::h2 {
namespace {

using engine_link::EngineLink;

constexpr int kMaxPumpRounds = 1000;
constexpr int kWarmUpRoundTrips = 64;

// What an edge forwards for a browser's GET: the public client's headers
// plus the edge's forwarding headers. x-request-id and traceparent differ per
// request, as they do in production.
RequestHead realistic_request() {
  RequestHead head;
  head.method = "GET";
  head.scheme = "https";
  head.authority = "app.example.test";
  head.path = "/api/v1/items?page=2";
  head.headers = {
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
      {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"x-forwarded-for", "203.0.113.7"},
      {"x-request-id", "00000000-0000-4000-8000-000000000000"},
      {"traceparent", "00-00000000000000000000000000000000-0000000000000000-01"},
  };
  return head;
}

// Writes the low `digits` hex digits of `value` into `text` just before
// `end` (in place: no allocation).
void stamp(std::string& text, std::size_t end, std::size_t digits, std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < digits; ++i, value >>= 4) text[end - 1 - i] = kDigits[value & 0xf];
}

// One edge/agent pair and everything a round trip needs, allocated up front
// so that what the loop allocates is the engines' doing.
class RoundTrips {
 public:
  explicit RoundTrips(std::size_t body_size)
      : request_(realistic_request()), body_(body_size, 'x') {
    response_.status = 200;
    response_.headers = {{"content-type", "text/html; charset=utf-8"},
                         {"content-length", std::to_string(body_size)},
                         {"cache-control", "no-store"}};
    to_agent_.reserve(1u << 20);
    to_edge_.reserve(1u << 20);
  }

  // `streams` requests opened together, answered by the agent, and read to
  // the end by the edge. Returns what went wrong, or nullptr.
  const char* run(int streams) {
    opened_.clear();
    for (int i = 0; i < streams; ++i) {
      ++serial_;
      const std::uint64_t mixed = serial_ * 0x9e3779b97f4a7c15u;
      stamp(request_.headers[3].value, 36, 12, serial_);  // x-request-id: last group
      stamp(request_.headers[4].value, 35, 16, mixed);    // traceparent: trace id
      stamp(request_.headers[4].value, 52, 16, ~mixed);   // traceparent: parent id
      auto stream = link_.edge.open_stream(request_, /*end_stream=*/true);
      if (!stream) return "edge: open_stream failed";
      opened_.push_back(std::move(*stream));
    }
    if (const char* failed = pump()) return failed;

    auto& requests = link_.agent_events.requests;
    if (requests.size() != static_cast<std::size_t>(streams)) return "agent: requests missing";
    for (auto& stream : requests) {
      auto head = parse_request_fields(std::move(stream->head));
      if (!head || head->method != "GET" || head->headers.size() != 5) return "agent: bad head";
      const bool empty = body_.empty();
      if (!link_.agent.respond(*stream, response_, empty)) return "agent: respond failed";
      if (!empty && !link_.agent.write_body(*stream, body_)) return "agent: write_body failed";
      if (!empty && !link_.agent.end_body(*stream, {})) return "agent: end_body failed";
    }
    requests.clear();
    if (const char* failed = pump()) return failed;

    for (auto& stream : opened_) {
      if (!stream->head_received) return "edge: no response head";
      auto head = parse_response_fields(std::move(stream->head));
      if (!head || head->status != 200) return "edge: bad response head";
      std::size_t received = 0;
      while (!stream->body.empty()) {  // as H2StreamHandle::read_body takes chunks
        std::string chunk = std::move(stream->body.front());
        stream->body.pop_front();
        link_.edge.consume(*stream, chunk.size());
        received += chunk.size();
      }
      if (received != body_.size()) return "edge: body incomplete";
      if (!stream->body_ended || !stream->closed || stream->error) return "edge: stream not clean";
    }
    opened_.clear();
    return nullptr;
  }

  // Bytes the engines sent each other so far, both directions.
  std::uint64_t wire_bytes() const { return wire_bytes_; }

 private:
  const char* pump() {
    for (int round = 0; round < kMaxPumpRounds; ++round) {
      const auto moved = link_.exchange(to_agent_, to_edge_);
      wire_bytes_ += to_agent_.size() + to_edge_.size();
      if (moved.failed) return "feed failed";
      if (!moved.any) return nullptr;
    }
    return "engines never went quiet";
  }

  EngineLink link_;
  RequestHead request_;
  ResponseHead response_;
  std::string body_;
  std::string to_agent_;
  std::string to_edge_;
  std::vector<std::shared_ptr<H2StreamState>> opened_;
  std::uint64_t serial_ = 0;
  std::uint64_t wire_bytes_ = 0;
};

void measure(benchmark::State& state, std::size_t body_size, int streams) {
  RoundTrips trips(body_size);
  for (int i = 0; i < kWarmUpRoundTrips; ++i) {
    if (const char* failed = trips.run(streams)) {
      state.SkipWithError(failed);
      return;
    }
  }
  if (bench::trace_allocations(true)) {
    std::fprintf(stderr, "==== allocations of one warmed-up run: %zu body bytes, %d streams ====\n",
                 body_size, streams);
    const char* failed = trips.run(streams);
    bench::trace_allocations(false);
    if (failed != nullptr) {
      state.SkipWithError(failed);
      return;
    }
  }

  const auto before = bench::alloc_stats();
  const std::uint64_t wire_before = trips.wire_bytes();
  for (auto _ : state) {
    if (const char* failed = trips.run(streams)) {
      state.SkipWithError(failed);
      break;
    }
  }
  const auto after = bench::alloc_stats();

  const double round_trips = static_cast<double>(state.iterations()) * streams;
  if (round_trips == 0) return;
  state.SetItemsProcessed(static_cast<std::int64_t>(round_trips));
  state.counters["allocs_per_rt"] = static_cast<double>(after.count - before.count) / round_trips;
  state.counters["alloc_bytes_per_rt"] =
      static_cast<double>(after.bytes - before.bytes) / round_trips;
  state.counters["wire_bytes_per_rt"] =
      static_cast<double>(trips.wire_bytes() - wire_before) / round_trips;
}

// One request at a time: GET, response head, `range(0)` body bytes.
void BM_RoundTrip(benchmark::State& state) {
  measure(state, static_cast<std::size_t>(state.range(0)), 1);
}
BENCHMARK(BM_RoundTrip)->Arg(0)->Arg(1024)->Arg(16384);

// `range(1)` streams opened before any is answered, as on a loaded session.
void BM_RoundTripBatch(benchmark::State& state) {
  measure(state, static_cast<std::size_t>(state.range(0)), static_cast<int>(state.range(1)));
}
BENCHMARK(BM_RoundTripBatch)->Args({0, 64})->Args({1024, 64})->Args({16384, 64});

}  // namespace
}  // namespace dialback::h2

BENCHMARK_MAIN();
