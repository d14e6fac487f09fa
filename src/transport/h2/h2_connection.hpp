// H2Connection: drives one H2Engine over a ByteStream with coroutines: a
// read loop, a write loop that coalesces every pending frame into one write,
// and the PING liveness loop. On the edge (client role) it is the
// TunnelSession of the `h2` and `rhttp` transports; on the agent (server
// role) it hands every incoming stream to the IncomingHandler.
//
// Owner: whoever co_awaits run(); the object must outlive run(). All calls
// happen on the executor of the ByteStream.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/byte_stream.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "transport/h2/h2_engine.hpp"
#include "transport/h2/liveness.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::h2 {

class H2Connection final : public TunnelSession, private EngineObserver {
 public:
  using IncomingHandler = std::function<void(std::unique_ptr<IncomingStream>)>;

  struct Options {
    Role role = Role::client;
    PrefaceMode preface = PrefaceMode::standard;
    H2Settings h2;
    LivenessSettings liveness;
    // Off where the peer decides how many there are (public clients): the
    // owner logs, sampled, from last_error().
    bool log_protocol_errors = true;
  };

  // `initial` holds bytes already read from `io` (after a handshake); they
  // are fed to the engine first.
  H2Connection(std::unique_ptr<ByteStream> io, const Options& options, SessionIdentity identity,
               Logger logger, std::string initial = {});
  ~H2Connection() override;

  // Server role: receives each incoming stream (called on the executor, never inline in a read).
  void set_incoming_handler(IncomingHandler handler) { incoming_ = std::move(handler); }
  // Called once when the peer sends GOAWAY.
  void set_goaway_handler(std::function<void()> handler) { on_peer_goaway_ = std::move(handler); }

  // Opens a stream now (nghttp2 queues it when the peer's stream limit is
  // reached): open_stream() without the coroutine, for callers that hold the
  // connection itself.
  Result<std::unique_ptr<TunnelStream>> start_stream(const RequestHead& head, bool end_stream);

  std::size_t open_streams() const { return engine_.open_streams(); }
  // Why the peer's input was refused (nghttp2's words or ours), for logs.
  const std::string& last_error() const { return engine_.last_error(); }
  // Server role: streams the peer reset before their handler started; they
  // were never handed to it.
  std::uint64_t streams_reset_unserved() const { return streams_reset_unserved_; }

  // Session
  Task<std::error_code> run() override;
  void close(Error reason) override;
  // The task must be started once created (run() waits for it).
  Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) override;
  const SessionIdentity& identity() const override { return identity_; }
  SessionStats stats() const override;
  asio::any_io_executor executor() const override { return executor_; }

  // TunnelSession
  bool accepting() const override { return !closing_ && !engine_.going_away(); }
  Task<Result<std::unique_ptr<TunnelStream>>> open_stream(const RequestHead& head,
                                                          bool end_stream) override;
  void go_away() override;

 private:
  // EngineObserver
  void on_request(std::shared_ptr<H2StreamState> stream) override;
  void on_ping_ack() override;
  void on_goaway(std::uint32_t error_code) override;
  void on_stream_closed() override { streams_changed_.notify(); }
  void on_go_away_confirmed() override { streams_changed_.notify(); }
  void on_output_ready() override { output_ready_.notify(); }

  Task<std::size_t> drain_until(std::chrono::steady_clock::time_point deadline);
  Task<void> read_loop();
  Task<void> write_loop();
  Task<void> liveness_loop();
  void end(std::error_code reason);

  std::unique_ptr<ByteStream> io_;
  std::string initial_;  // fed before the first read; empty once run() started
  asio::any_io_executor executor_;
  SessionIdentity identity_;
  Logger logger_;
  H2Engine engine_;
  Liveness liveness_;
  AsyncEvent output_ready_;
  AsyncEvent streams_changed_;
  AsyncEvent drains_done_;
  asio::steady_timer liveness_timer_;
  IncomingHandler incoming_;
  std::function<void()> on_peer_goaway_;
  std::error_code end_reason_;
  bool log_protocol_errors_;
  bool closing_ = false;       // no more reading; the write loop flushes and stops
  int drains_running_ = 0;     // drain() calls not yet returned; run() waits for them
  TaskGroup loops_;            // the write and liveness loops; run() joins them
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t streams_total_ = 0;
  std::uint64_t streams_reset_unserved_ = 0;
  std::chrono::microseconds rtt_{0};
};

}  // namespace dialback::h2
