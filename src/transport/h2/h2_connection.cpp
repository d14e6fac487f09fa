#include "transport/h2/h2_connection.hpp"

#include <array>

#include "transport/h2/h2_headers.hpp"
#include "transport/h2/h2_stream_handle.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::h2 {

using Clock = std::chrono::steady_clock;

H2Connection::H2Connection(std::unique_ptr<ByteStream> io, const Options& options,
                           SessionIdentity identity, Logger logger, std::string initial)
    : io_(std::move(io)),
      initial_(std::move(initial)),
      executor_(io_->executor()),
      identity_(std::move(identity)),
      logger_(std::move(logger)),
      engine_(options.role, options.preface, options.h2, *this),
      liveness_(options.liveness, Clock::now()),
      output_ready_(executor_),
      streams_changed_(executor_),
      drains_done_(executor_),
      loops_(executor_, logger_, "h2 connection " + identity_.session_id),
      liveness_timer_(executor_),
      log_protocol_errors_(options.log_protocol_errors) {}

H2Connection::~H2Connection() { engine_.terminate(make_error_code(Error::session_closed)); }

SessionStats H2Connection::stats() const {
  SessionStats s;
  s.inflight = engine_.open_streams();
  s.streams_total = streams_total_;
  s.bytes_in = bytes_in_;
  s.bytes_out = bytes_out_;
  s.rtt = rtt_;
  return s;
}

Result<std::unique_ptr<TunnelStream>> H2Connection::start_stream(const RequestHead& head,
                                                                 bool end_stream) {
  if (closing_) return fail(Error::session_closed);
  auto state = engine_.open_stream(head, end_stream);
  if (!state) return fail(state.error());
  ++streams_total_;
  return std::unique_ptr<TunnelStream>(
      std::make_unique<H2TunnelStream>(std::move(*state), executor_));
}

Task<Result<std::unique_ptr<TunnelStream>>> H2Connection::open_stream(const RequestHead& head,
                                                                      bool end_stream) {
  co_return start_stream(head, end_stream);
}

void H2Connection::go_away() { engine_.go_away(); }

void H2Connection::on_request(std::shared_ptr<H2StreamState> stream) {
  if (stream->head_oversized) {
    // Answered here: the handler never sees a head that broke the limits.
    ResponseHead too_large{431, {{"content-length", "0"}}};
    if (!engine_.respond(*stream, too_large, true)) engine_.reset(*stream, NGHTTP2_REFUSED_STREAM);
    return;
  }
  auto head = parse_request_fields(std::move(stream->head));
  if (!head || !incoming_) {
    engine_.reset(*stream, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  ++streams_total_;
  auto handle = std::make_unique<H2IncomingStream>(std::move(stream), executor_, std::move(*head));
  // Never run the handler inside nghttp2's callback.
  asio::post(executor_, [this, handle = std::move(handle)]() mutable {
    // Reset by the peer in the same read as its HEADERS (rapid reset):
    // nothing was started for it, and nothing will be.
    if (handle->ended_early()) {
      ++streams_reset_unserved_;
      return;
    }
    incoming_(std::move(handle));
  });
}

void H2Connection::on_ping_ack() { rtt_ = liveness_.on_ping_ack(Clock::now()); }

void H2Connection::on_goaway(std::uint32_t error_code) {
  logger_->info("session {} peer sent GOAWAY (error {})", identity_.session_id, error_code);
  if (on_peer_goaway_) {
    auto handler = std::move(on_peer_goaway_);
    on_peer_goaway_ = nullptr;
    asio::post(executor_, std::move(handler));
  }
}

Task<std::error_code> H2Connection::run() {
  const std::string initial = std::move(initial_);
  initial_.clear();
  if (!initial.empty()) {
    bytes_in_ += initial.size();
    auto fed = engine_.feed({reinterpret_cast<const std::uint8_t*>(initial.data()), initial.size()},
                            Clock::now());
    if (!fed) {
      if (log_protocol_errors_) {
        logger_->warn("session {} protocol error: {}", identity_.session_id, engine_.last_error());
      }
      end_reason_ = fed.error();
      closing_ = true;  // no reading; the write loop sends the queued GOAWAY, then closes
    }
  }
  // A loop that throws is logged and counted as ended; the connection then
  // ends, which stops the others.
  auto on_loop_end = [this] {
    if (!closing_) end(make_error_code(Error::session_closed));
  };
  loops_.spawn(write_loop(), on_loop_end);
  loops_.spawn(liveness_loop(), on_loop_end);
  co_await read_loop();
  co_await loops_.join();
  // A drain() still waiting must leave before the owner may destroy us.
  while (drains_running_ > 0) {
    streams_changed_.notify();
    co_await drains_done_.wait();
  }
  engine_.terminate(make_error_code(Error::session_closed));
  co_return end_reason_ ? end_reason_ : make_error_code(Error::session_closed);
}

void H2Connection::end(std::error_code reason) {
  if (!end_reason_) end_reason_ = reason;
  if (closing_) return;
  closing_ = true;
  io_->close();
  liveness_timer_.cancel();
  output_ready_.notify();
  streams_changed_.notify();  // a drain() waiting for streams sees the end now
  engine_.terminate(reason);
}

void H2Connection::close(Error reason) { end(reason); }

Task<void> H2Connection::read_loop() {
  constexpr std::size_t kReadSize = 16384;
  // Over a stream that can wait for readability, the buffer exists only
  // while the peer is sending: an idle session holds none (16 KiB each).
  std::unique_ptr<std::uint8_t[]> buffer;
  while (!closing_) {
    error_code ec;
    if (!buffer) co_await io_->wait_readable(ec);
    std::size_t n = 0;
    if (!ec) {
      if (!buffer) buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kReadSize);
      n = co_await io_->read_some(asio::buffer(buffer.get(), kReadSize), ec);
    }
    if (ec) {
      end(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                  ec == asio::error::operation_aborted
              ? make_error_code(Error::session_closed)
              : std::error_code(ec));
      break;
    }
    bytes_in_ += n;
    const auto now = Clock::now();
    liveness_.on_read(now);
    if (auto fed = engine_.feed({buffer.get(), n}, now); !fed) {
      if (log_protocol_errors_) {
        logger_->warn("session {} protocol error: {}", identity_.session_id, engine_.last_error());
      }
      // Let the GOAWAY nghttp2 queued reach the peer before closing.
      output_ready_.notify();
      end_reason_ = fed.error();
      break;
    }
    if (engine_.finished()) break;
    if (n < kReadSize && io_->waits_readable()) buffer.reset();  // drained: wait without it
  }
  // The write loop flushes what is pending, then closes the socket.
  if (!closing_) {
    closing_ = true;
    output_ready_.notify();
    liveness_timer_.cancel();
  }
}

Task<void> H2Connection::write_loop() {
  std::string out;
  for (;;) {
    out.clear();
    engine_.drain_output(out);
    if (out.empty()) {
      if (closing_ || engine_.finished()) break;
      co_await output_ready_.wait();
      continue;
    }
    error_code ec;
    co_await io_->write_all(asio::buffer(out), ec);
    if (ec) {
      end(make_error_code(Error::session_closed));
      co_return;
    }
    bytes_out_ += out.size();
  }
  if (!end_reason_ || end_reason_ == Error::protocol_error) {
    co_await io_->shutdown();
  }
  end(end_reason_ ? end_reason_ : make_error_code(Error::session_closed));
}

Task<void> H2Connection::liveness_loop() {
  while (!closing_) {
    switch (liveness_.poll(Clock::now())) {
      case Liveness::Action::send_ping:
        engine_.submit_ping();
        break;
      case Liveness::Action::expired:
        logger_->warn("session {} closed: no PING ACK in time", identity_.session_id);
        end(make_error_code(Error::ping_timeout));
        co_return;
      case Liveness::Action::none:
        break;
    }
    liveness_timer_.expires_at(liveness_.next_deadline());
    error_code ec;
    co_await liveness_timer_.async_wait(nothrow(ec));
  }
}

Task<std::size_t> H2Connection::drain(Clock::time_point deadline) {
  // Counted here, synchronously: callers spawn the task detached and it
  // starts later; run() waits for it before returning, so the connection
  // outlives every drain even when it ends on its own meanwhile.
  ++drains_running_;
  return drain_until(deadline);
}

Task<std::size_t> H2Connection::drain_until(Clock::time_point deadline) {
  go_away();
  // Streams the peer opened before it saw the GOAWAY may still be on the
  // way (H2Engine::go_away): they are served too.
  while (!engine_.go_away_confirmed() && !closing_) {
    const bool woken = co_await streams_changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) break;
  }
  engine_.finish_go_away();
  while (engine_.open_streams() > 0 && !closing_) {
    const bool woken = co_await streams_changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) break;
  }
  const std::size_t cut = engine_.open_streams();
  end(make_error_code(cut > 0 ? Error::timeout : Error::session_closed));
  --drains_running_;
  drains_done_.notify();
  co_return cut;
}

}  // namespace dialback::h2
