// EngineLink: an edge H2Engine (HTTP/2 client) and an agent H2Engine (HTTP/2
// server) wired to each other in memory. exchange() moves what each side has
// drained into the other; no sockets, no io_context, no timers. Shared by the
// engine tests (tests/engine/engine_pair.hpp adds gtest assertions) and the
// engine micro-benchmarks, so it knows nothing of either.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "transport/h2/h2_engine.hpp"

namespace dialback::h2::engine_link {

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Records every event an engine reports.
struct Recorder final : EngineObserver {
  std::vector<std::shared_ptr<H2StreamState>> requests;
  int ping_acks = 0;
  std::vector<std::uint32_t> goaways;
  int go_away_confirmed = 0;
  int streams_closed = 0;
  int output_ready = 0;

  void on_request(std::shared_ptr<H2StreamState> stream) override {
    requests.push_back(std::move(stream));
  }
  void on_ping_ack() override { ++ping_acks; }
  void on_goaway(std::uint32_t error_code) override { goaways.push_back(error_code); }
  void on_go_away_confirmed() override { ++go_away_confirmed; }
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

struct EngineLink {
  enum class Side { edge, agent };
  struct Moved {
    bool any = false;          // false: neither side had anything to send
    bool failed = false;       // a feed failed: `side` refused what it was fed
    Side side = Side::edge;
    std::error_code error;
  };

  explicit EngineLink(const H2Settings& settings = {}, PrefaceMode mode = PrefaceMode::standard)
      : edge(Role::client, mode, settings, edge_events),
        agent(Role::server, mode, settings, agent_events) {}

  // One round: drains both sides into the buffers (cleared first, so their
  // capacity is reused) and feeds each into the other, in reads of at most
  // `piece` bytes.
  Moved exchange(std::string& to_agent, std::string& to_edge,
                 std::size_t piece = std::numeric_limits<std::size_t>::max()) {
    to_agent.clear();
    to_edge.clear();
    edge.drain_output(to_agent);
    agent.drain_output(to_edge);
    Moved moved;
    moved.any = !to_agent.empty() || !to_edge.empty();
    if (auto fed = feed_in_pieces(agent, to_agent, piece); !fed) {
      moved.failed = true;
      moved.side = Side::agent;
      moved.error = fed.error();
    } else if (auto fed = feed_in_pieces(edge, to_edge, piece); !fed) {
      moved.failed = true;
      moved.side = Side::edge;
      moved.error = fed.error();
    }
    return moved;
  }

  Recorder edge_events;   // declared before the engines: outlives them
  Recorder agent_events;
  H2Engine edge;
  H2Engine agent;
};

}  // namespace dialback::h2::engine_link
