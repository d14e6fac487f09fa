// PollPipe: one end of the ordered, reliable byte pipe that the `poll`
// transport builds from HTTP/1.1 requests (docs/protocol.md §12). The
// reversed HTTP/2 session of §3 runs over it unchanged, through
// PollPipeStream (a ByteStream); the transport's requests move its bytes:
//
//   outbound  what the session writes, cut into numbered batches that the
//             transport takes (edge: `next` responses; agent: `send`
//             bodies). A batch is kept until the peer acknowledged it, and
//             handed out again when its delivery failed or (edge) when a
//             poll that arrived after it was delivered still does not
//             acknowledge it: the receiver drops duplicates by number.
//   inbound   numbered batches from the peer, put back in order (at most
//             `max_ahead` batches past a gap) for the session to read.
//
// Single-threaded: every call on the session's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "core/async_event.hpp"
#include "core/byte_stream.hpp"
#include "core/error.hpp"
#include "core/result.hpp"
#include "transport/poll/poll_wire.hpp"

namespace dialback::poll {

struct PollBatch {
  std::uint64_t seq = 0;  // from 1
  std::string bytes;
};

class PollPipe {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    std::size_t max_batch = kMaxBatch;  // bytes per batch
    // Outbound bytes not yet acknowledged before the session's writes wait.
    std::size_t write_buffer = 4 * 1024 * 1024;
    // Inbound batches accepted past a missing one; further ahead is an error.
    std::size_t max_ahead = 16;
    // Inbound bytes in order but not yet read before receive() waits.
    std::size_t read_buffer = 4 * 1024 * 1024;
  };

  PollPipe(asio::any_io_executor executor, Limits limits);

  // --- the session's side (PollPipeStream) ---
  Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
  Task<void> write_all(asio::const_buffer buffer, error_code& ec);

  // --- the transport's side, outbound ---
  // The next batch to deliver: one handed out before whose delivery failed
  // or that the peer reported missing, else the bytes written since the
  // last batch (at most max_batch). Waits until there is one, the pipe
  // closes, or `deadline` (nullopt for the last two). `peer_has` is the
  // peer's acknowledgement sent with this request and `asked_at` when the
  // request arrived (edge); the agent passes 0 and now().
  Task<std::optional<PollBatch>> take(Clock::time_point deadline, std::uint64_t peer_has,
                                      Clock::time_point asked_at);
  // The batch reached the peer's connection (the edge wrote its response),
  // or it did not (it may be handed out again at once).
  void delivered(std::uint64_t seq);
  void failed(std::uint64_t seq);
  // The peer has every batch up to `seq` (edge: the agent's Dialback-Poll-Ack):
  // they are dropped.
  void acknowledge(std::uint64_t seq);
  // The peer has batch `seq` (agent: the edge answered its `send`).
  void acknowledge_one(std::uint64_t seq);

  // --- the transport's side, inbound ---
  // Adds the peer's batch `seq`. A duplicate is ignored; a batch more than
  // max_ahead past the first missing one fails with Error::protocol_error.
  // Waits while the session has more than read_buffer bytes unread.
  Task<Result<void>> receive(std::uint64_t seq, std::string bytes);
  // Every inbound batch up to this one has arrived (the acknowledgement to send).
  std::uint64_t received_through() const { return received_through_; }

  // The session's orderly end: no more writes; take() still hands out what
  // was written, and the pipe closes once the peer acknowledged all of it.
  void shutdown();
  bool shutting_down() const { return shutdown_; }
  // Returns once every written byte was acknowledged, the pipe closed, or
  // at `deadline`.
  Task<void> wait_flushed(Clock::time_point deadline);

  // Ends the pipe: reads return EOF once the inbound bytes are read (an
  // orderly end), or fail at once when `reason` is set; writes, take() and
  // receive() end. Idempotent.
  void close(std::error_code reason = {});
  bool closed() const { return closed_; }

 private:
  struct Sent {
    PollBatch batch;
    bool in_flight = true;
    Clock::time_point delivered_at{};  // when in_flight ended with delivered()
    bool failed = false;
  };
  std::size_t unacknowledged() const;
  Sent* find(std::uint64_t seq);
  // After an acknowledgement: closes a shut-down pipe that has nothing left.
  void close_if_flushed();

  Limits limits_;
  AsyncEvent changed_;
  bool closed_ = false;
  bool shutdown_ = false;
  std::error_code close_reason_;

  std::string unsent_;          // written, not yet in a batch
  std::deque<Sent> sent_;       // handed out, not acknowledged, by seq
  std::uint64_t next_seq_ = 1;  // of the next new batch
  std::uint64_t acknowledged_ = 0;

  std::deque<std::string> inbound_;  // in order, not yet read
  std::size_t inbound_bytes_ = 0;
  std::size_t inbound_offset_ = 0;              // read from inbound_.front()
  std::map<std::uint64_t, std::string> ahead_;  // past a gap
  std::uint64_t received_through_ = 0;
};

// The session's ByteStream over a pipe it shares with the transport.
// shutdown() is the orderly end (what was written is still delivered);
// close() and destruction without it abort the pipe.
class PollPipeStream final : public ByteStream {
 public:
  PollPipeStream(std::shared_ptr<PollPipe> pipe, asio::any_io_executor executor)
      : pipe_(std::move(pipe)), executor_(std::move(executor)) {}
  ~PollPipeStream() override { close(); }

  Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) override {
    return pipe_->read_some(buffer, ec);
  }
  Task<void> write_all(asio::const_buffer buffer, error_code& ec) override {
    return pipe_->write_all(buffer, ec);
  }
  Task<void> shutdown() override {
    pipe_->shutdown();
    co_return;
  }
  void close() override {
    if (!pipe_->shutting_down()) pipe_->close(make_error_code(Error::session_closed));
  }
  asio::any_io_executor executor() override { return executor_; }

 private:
  std::shared_ptr<PollPipe> pipe_;
  asio::any_io_executor executor_;
};

}  // namespace dialback::poll
