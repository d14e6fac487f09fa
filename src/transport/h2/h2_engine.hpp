// H2Engine: one reversed-HTTP/2 session as a byte-in / byte-out state
// machine around nghttp2. It owns no socket and no timer: its driver feeds
// received bytes, drains output, and passes time in. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "core/error.hpp"
#include "core/result.hpp"
#include "transport/h2/h2_memory_pool.hpp"
#include "transport/h2/h2_settings.hpp"
#include "transport/h2/h2_stream_state.hpp"
#include "tunnel/message.hpp"

namespace dialback::h2 {

// Events the engine reports to its driver. Called from inside feed() or an
// engine call; must not destroy the engine.
class EngineObserver {
 public:
  // Server role: a new stream's request head arrived.
  virtual void on_request(std::shared_ptr<H2StreamState> stream) = 0;
  virtual void on_ping_ack() = 0;
  virtual void on_goaway(std::uint32_t error_code) = 0;
  // go_away_confirmed() became true.
  virtual void on_go_away_confirmed() = 0;
  virtual void on_stream_closed() = 0;
  // Frames are waiting to be drained.
  virtual void on_output_ready() = 0;

 protected:
  ~EngineObserver() = default;
};

class H2Engine {
 public:
  H2Engine(Role role, PrefaceMode preface, const H2Settings& settings, EngineObserver& observer);
  ~H2Engine();
  H2Engine(const H2Engine&) = delete;
  H2Engine& operator=(const H2Engine&) = delete;

  Role role() const { return role_; }

  // Received bytes, read at `now`; fails with Error::protocol_error (after
  // queueing GOAWAY).
  Result<void> feed(std::span<const std::uint8_t> bytes, std::chrono::steady_clock::time_point now);
  Result<void> feed(std::span<const std::uint8_t> bytes) {
    return feed(bytes, std::chrono::steady_clock::now());
  }
  // Appends pending frames to `out` (up to about `limit` bytes); returns bytes appended.
  std::size_t drain_output(std::string& out, std::size_t limit = 256u << 10);
  bool wants_write() const;
  // True when the session will neither read nor write again.
  bool finished() const;
  // Last nghttp2 error text, for logs.
  const std::string& last_error() const { return last_error_; }

  // Client role: opens a stream for `head`; end_stream when there is no body.
  Result<std::shared_ptr<H2StreamState>> open_stream(const RequestHead& head, bool end_stream);
  // Server role: answers `stream`.
  Result<void> respond(H2StreamState& stream, const ResponseHead& head, bool end_stream);
  // Server role: a 1xx head before the final one (100 Continue, 103 Early Hints).
  Result<void> respond_informational(H2StreamState& stream, const ResponseHead& head);

  // Queues body bytes; the caller honours settings().stream_send_buffer.
  Result<void> write_body(H2StreamState& stream, std::string_view data);
  Result<void> end_body(H2StreamState& stream, HeaderList trailers);
  // The reader took `bytes` of inbound body: reopen the flow-control window.
  void consume(H2StreamState& stream, std::size_t bytes);
  void reset(H2StreamState& stream, std::uint32_t h2_error_code);

  // Also gives cached memory back when no stream is open (the driver pings
  // after a silence).
  void submit_ping();
  // Graceful: no new streams; open ones continue. Client role: GOAWAY
  // (NO_ERROR) at once. Server role (the agent, whose peer opens the
  // streams): GOAWAY with the largest stream id (RFC 9113 §6.8's notice)
  // and a PING. Streams the peer opened before it saw the notice still
  // arrive and are served; once the PING's ACK is back none can follow
  // (go_away_confirmed()), and finish_go_away() sends the final GOAWAY
  // with the last stream processed. A single GOAWAY would refuse the
  // streams it crossed on the wire, and their requests would fail.
  void go_away();
  // No stream can arrive any more: the peer confirmed our notice, or it
  // sent GOAWAY itself, or this side is the client.
  bool go_away_confirmed() const { return go_away_confirmed_; }
  // Server role, once go_away_confirmed(): the final GOAWAY (idempotent).
  // Not from inside feed(): streams later in the same read count too.
  void finish_go_away();
  // Abortive: every open stream fails with `reason` now.
  void terminate(std::error_code reason);

  std::size_t open_streams() const { return streams_.size(); }
  bool going_away() const { return going_away_; }
  const H2Settings& settings() const { return settings_; }

 private:
  friend struct EngineCallbacks;

  void close_stream(std::int32_t id, std::uint32_t error_code);
  void confirm_go_away();
  // A RST_STREAM arrived for the open `stream`: records it and takes from
  // the reset budget; a nghttp2 callback result.
  int on_peer_reset(H2StreamState& stream);
  // settings_.strict: feeds `bytes` frame by frame, checking each HEADERS
  // frame's stream id against those already opened (RFC 9113 §5.1.1).
  Result<void> feed_checking_stream_ids(std::span<const std::uint8_t> bytes);
  Result<void> mem_recv(std::span<const std::uint8_t> bytes);
  // A closed stream's state nobody holds any more, reset, or a new one.
  std::shared_ptr<H2StreamState> new_stream_state();
  void add_stream(std::shared_ptr<H2StreamState> stream);
  // Position of stream `id` in streams_, or streams_.end().
  std::vector<std::shared_ptr<H2StreamState>>::iterator find_stream(std::int32_t id);
  void install_provider(nghttp2_data_provider& provider, H2StreamState& stream);
  void notify_output() { observer_.on_output_ready(); }

  Role role_;
  PrefaceMode preface_;
  H2Settings settings_;
  EngineObserver& observer_;
  H2MemoryPool pool_;                // nghttp2's allocations; outlives session_
  nghttp2_session* session_ = nullptr;
  // Open streams by ascending id (a vector: no node to allocate per stream).
  std::vector<std::shared_ptr<H2StreamState>> streams_;
  // Closed streams' states, reused by new_stream_state() once no handle holds them.
  std::vector<std::shared_ptr<H2StreamState>> spare_;
  TokenBucket peer_resets_;                      // settings_.peer_resets
  std::chrono::steady_clock::time_point now_{};  // of the bytes being fed
  bool reset_flood_ = false;                     // the peer used up peer_resets_: GOAWAY queued
  std::vector<nghttp2_nv> fields_;   // header list being submitted; keeps its capacity
  std::size_t magic_to_skip_ = 0;    // client in reversed mode: preface bytes still expected
  std::size_t magic_to_drop_ = 0;    // client in reversed mode: our own preface bytes to drop
  bool magic_to_send_ = false;       // server in reversed mode: preface still to write
  bool going_away_ = false;
  bool peer_goaway_ = false;         // a GOAWAY arrived from the peer
  bool notice_sent_ = false;         // server: the GOAWAY notice and its PING went out
  bool go_away_confirmed_ = false;
  bool final_goaway_sent_ = false;
  std::string last_error_;
  // Frame boundaries of the peer's input, for settings_.strict.
  struct FrameScan {
    std::size_t skip = 0;         // bytes of the current frame's payload (or preface) left
    std::uint8_t header[9] = {};  // the frame header being received
    std::size_t have = 0;         // bytes of it received
    std::int32_t highest_opened = 0;
  } scan_;
};

}  // namespace dialback::h2
