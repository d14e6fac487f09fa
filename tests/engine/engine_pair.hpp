// Helpers of the H2Engine pair tests: an edge engine (HTTP/2 client) and an
// agent engine (HTTP/2 server) wired to each other through strings in
// memory. No sockets, no io_context, no timers: pump() moves bytes until both
// sides are quiet.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "core/error.hpp"
#include "transport/h2/h2_engine.hpp"
#include "transport/h2/h2_headers.hpp"

namespace dialback::h2::engine_test {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr int kMaxPumpRounds = 10'000;

// ---- helpers ----------------------------------------------------------------

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Records every event an engine reports.
struct Recorder final : EngineObserver {
  std::vector<std::shared_ptr<H2StreamState>> requests;
  int ping_acks = 0;
  std::vector<std::uint32_t> goaways;
  int streams_closed = 0;
  int output_ready = 0;

  void on_request(std::shared_ptr<H2StreamState> stream) override {
    requests.push_back(std::move(stream));
  }
  void on_ping_ack() override { ++ping_acks; }
  void on_goaway(std::uint32_t error_code) override { goaways.push_back(error_code); }
  void on_stream_closed() override { ++streams_closed; }
  void on_output_ready() override { ++output_ready; }
};

// Feeds `data` to `engine` in pieces of at most `piece` bytes.
inline Result<void> feed_in_pieces(H2Engine& engine, std::string_view data, std::size_t piece) {
  while (!data.empty()) {
    const std::size_t n = std::min(piece, data.size());
    if (auto fed = engine.feed(bytes_of(data.substr(0, n))); !fed) return fed;
    data.remove_prefix(n);
  }
  return {};
}

// An edge (client) and an agent (server) engine connected in memory.
struct EnginePair {
  explicit EnginePair(const H2Settings& settings = {},
                      PrefaceMode mode = PrefaceMode::standard)
      : edge(Role::client, mode, settings, edge_events),
        agent(Role::server, mode, settings, agent_events) {}

  // Moves drained output of each side into the other until neither has
  // anything to send. `piece` splits every feed() into reads of that size.
  testing::AssertionResult pump(std::size_t piece = std::numeric_limits<std::size_t>::max()) {
    for (int round = 0; round < kMaxPumpRounds; ++round) {
      std::string to_agent;
      std::string to_edge;
      edge.drain_output(to_agent);
      agent.drain_output(to_edge);
      if (to_agent.empty() && to_edge.empty()) return testing::AssertionSuccess();
      edge_sent += to_agent;
      agent_sent += to_edge;
      if (auto fed = feed_in_pieces(agent, to_agent, piece); !fed) {
        return testing::AssertionFailure()
               << "agent feed failed: " << fed.error().message() << " / " << agent.last_error();
      }
      if (auto fed = feed_in_pieces(edge, to_edge, piece); !fed) {
        return testing::AssertionFailure()
               << "edge feed failed: " << fed.error().message() << " / " << edge.last_error();
      }
    }
    return testing::AssertionFailure() << "engines never went quiet";
  }

  Recorder edge_events;   // declared before the engines: outlives them
  Recorder agent_events;
  H2Engine edge;
  H2Engine agent;
  std::string edge_sent;   // every byte the edge emitted
  std::string agent_sent;  // every byte the agent emitted
};

inline RequestHead make_request(std::string method, std::string path) {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "https";
  head.authority = "app.example.test";
  head.path = std::move(path);
  head.headers = {{"user-agent", "pair-test/1"}, {"x-request-id", "req-42"}};
  return head;
}

inline ResponseHead make_response(int status, HeaderList headers = {}) {
  ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  return head;
}

// Takes every queued body chunk of `stream` and gives the bytes back to flow control.
inline std::string take_body(H2Engine& engine, H2StreamState& stream) {
  std::string out;
  while (!stream.body.empty()) {
    const std::size_t n = stream.body.front().size();
    out += stream.body.front();
    stream.body.pop_front();
    engine.consume(stream, n);
  }
  return out;
}

// Deterministic bytes that differ at every offset of a 251-byte period.
inline std::string pattern_bytes(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return out;
}

inline std::string header_value(const HeaderList& headers, std::string_view name) {
  auto value = find_header(headers, name);
  return value ? std::string(*value) : std::string("<absent>");
}

// The stream ended cleanly: both directions complete, no error recorded.
inline testing::AssertionResult closed_cleanly(const H2StreamState& stream) {
  if (!stream.closed) return testing::AssertionFailure() << "stream " << stream.id << " still open";
  if (stream.error) {
    return testing::AssertionFailure()
           << "stream " << stream.id << " ended with " << stream.error.message();
  }
  if (!stream.body_ended) {
    return testing::AssertionFailure() << "stream " << stream.id << " body not ended";
  }
  return testing::AssertionSuccess();
}

}  // namespace dialback::h2::engine_test
