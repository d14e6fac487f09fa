// Helpers of the H2Engine pair tests: the in-memory EngineLink
// (bench/engine/engine_link.hpp, shared with the engine benchmarks) with
// gtest assertions; pump() moves bytes until both sides are quiet.
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
#include "engine/engine_link.hpp"
#include "transport/h2/h2_engine.hpp"
#include "transport/h2/h2_headers.hpp"

namespace dialback::h2::engine_test {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr int kMaxPumpRounds = 10'000;

// ---- helpers ----------------------------------------------------------------

using engine_link::bytes_of;
using engine_link::feed_in_pieces;
using engine_link::Recorder;

// An edge (client) and an agent (server) engine connected in memory.
struct EnginePair : engine_link::EngineLink {
  using EngineLink::EngineLink;

  // Moves drained output of each side into the other until neither has
  // anything to send. `piece` splits every feed() into reads of that size.
  testing::AssertionResult pump(std::size_t piece = std::numeric_limits<std::size_t>::max()) {
    std::string to_agent;
    std::string to_edge;
    for (int round = 0; round < kMaxPumpRounds; ++round) {
      const auto moved = exchange(to_agent, to_edge, piece);
      edge_sent += to_agent;
      agent_sent += to_edge;
      if (moved.failed) {
        const bool agent_side = moved.side == Side::agent;
        return testing::AssertionFailure()
               << (agent_side ? "agent" : "edge") << " feed failed: " << moved.error.message()
               << " / " << (agent_side ? agent : edge).last_error();
      }
      if (!moved.any) return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "engines never went quiet";
  }

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
