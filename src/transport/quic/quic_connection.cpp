#include "transport/quic/quic_connection.hpp"

#include <array>
#include <cstring>

#include "transport/quic/h3_stream_handle.hpp"
#include "transport/quic/udp_offload.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::quic {

using Clock = std::chrono::steady_clock;

namespace {
// Datagrams written per turn of the flush loop before it lets reads in.
constexpr int kFlushBatch = 128;
// How long open_stream() waits for the agent to allow another stream.
constexpr auto kStreamLimitWait = std::chrono::seconds(10);
}  // namespace

QuicConnection::QuicConnection(asio::any_io_executor executor, DatagramSender& sender,
                               Logger logger)
    : executor_(executor),
      sender_(sender),
      logger_(std::move(logger)),
      changed_(executor),
      output_ready_(executor),
      timer_(executor),
      loops_(executor, logger_, "quic connection") {}

Result<std::unique_ptr<QuicConnection>> QuicConnection::connect(asio::any_io_executor executor,
                                                                const QuicEngineSettings& settings,
                                                                TlsSession tls, const UdpPath& path,
                                                                DatagramSender& sender,
                                                                Logger logger) {
  std::unique_ptr<QuicConnection> connection(
      new QuicConnection(executor, sender, std::move(logger)));
  auto engine = QuicEngine::connect(settings, *connection, std::move(tls), path, Clock::now());
  if (!engine) return fail(engine.error());
  connection->engine_ = std::move(*engine);
  connection->start();
  return connection;
}

Result<std::unique_ptr<QuicConnection>> QuicConnection::accept(
    asio::any_io_executor executor, Side side, const QuicEngineSettings& settings, TlsSession tls,
    const UdpPath& path, const ngtcp2_pkt_hd& hd, const ngtcp2_cid* original_dcid,
    std::span<const std::uint8_t> reset_secret, DatagramSender& sender,
    ConnectionIdHandler on_connection_id, Logger logger) {
  std::unique_ptr<QuicConnection> connection(
      new QuicConnection(executor, sender, std::move(logger)));
  connection->on_connection_id_ = std::move(on_connection_id);
  auto engine = QuicEngine::accept(side, settings, *connection, std::move(tls), path, hd,
                                   original_dcid, reset_secret, Clock::now());
  if (!engine) return fail(engine.error());
  connection->engine_ = std::move(*engine);
  connection->start();
  return connection;
}

QuicConnection::~QuicConnection() {
  if (on_connection_id_) {
    for (const auto& cid : connection_ids_) on_connection_id_(*this, cid, false);
  }
}

void QuicConnection::start() {
  output_pending_ = true;  // the client's first Initial
  loops_.spawn(flush_loop());
  loops_.spawn(timer_loop());
}

void QuicConnection::receive(const UdpPath& path, std::span<const std::uint8_t> datagram) {
  if (engine_->finished()) return;
  bytes_in_ += datagram.size();
  (void)engine_->receive(path, datagram, Clock::now());
  output_pending_ = true;
  output_ready_.notify();
  if (engine_->finished()) changed_.notify();
}

void QuicConnection::on_output_ready() {
  output_pending_ = true;
  output_ready_.notify();
}

void QuicConnection::flush() {
  // On the thread's stack: a flush never suspends, and a buffer per
  // connection would cost every idle session 64 KB.
  std::array<std::uint8_t, kMaxSegmentBytes> buffer;
  // Datagrams of one size on one path go out together (GSO); a shorter
  // one ends such a run, a larger one or another path starts the next.
  UdpPath path;
  UdpPath run_path;
  std::size_t run_bytes = 0;
  std::size_t run_count = 0;
  std::size_t segment = 0;
  auto send_run = [&] {
    if (run_bytes > 0) sender_.send(run_path, {buffer.data(), run_bytes}, segment);
    run_bytes = 0;
    run_count = 0;
  };
  const auto now = Clock::now();
  for (int i = 0; i < kFlushBatch; ++i) {
    if (buffer.size() - run_bytes < QuicEngine::kMaxDatagram) send_run();
    std::uint8_t* at = buffer.data() + run_bytes;
    const std::size_t n = engine_->write_datagram({at, QuicEngine::kMaxDatagram}, path, now);
    if (n == 0) break;
    bytes_out_ += n;
    if (run_bytes > 0 &&
        (n > segment || path.remote != run_path.remote || path.local != run_path.local)) {
      send_run();
      std::memmove(buffer.data(), at, n);
    }
    if (run_bytes == 0) {
      run_path = path;
      segment = n;
    }
    run_bytes += n;
    ++run_count;
    if (n < segment || run_count == kMaxSegments) send_run();
    if (i + 1 == kFlushBatch) output_pending_ = true;  // more after the reads waiting
  }
  send_run();
  if (engine_->finished()) {
    timer_.cancel();
    changed_.notify();
    return;
  }
  // Re-arming costs a system call (timerfd) and the engine's deadline moves
  // with nearly every datagram: the timer moves only when the deadline came
  // earlier; one that fires early re-arms itself (timer_loop).
  const auto expiry = engine_->expiry();
  if (expiry < timer_.expiry()) timer_.expires_at(expiry);
}

Task<void> QuicConnection::flush_loop() {
  while (!engine_->finished()) {
    if (!output_pending_) {
      co_await output_ready_.wait();
      continue;
    }
    output_pending_ = false;
    flush();
    if (output_pending_) co_await asio::post(executor_, asio::use_awaitable);
  }
}

Task<void> QuicConnection::timer_loop() {
  timer_.expires_at(engine_->expiry());
  while (!engine_->finished()) {
    error_code ec;
    co_await timer_.async_wait(nothrow(ec));
    if (engine_->finished()) break;
    const auto now = Clock::now();
    if (now < engine_->expiry()) {
      // Early: re-armed earlier by a flush (wait for that), or the engine's
      // deadline moved later since the timer was set.
      if (timer_.expiry() <= now) timer_.expires_at(engine_->expiry());
      continue;
    }
    engine_->handle_expiry(now);
    flush();
    if (!engine_->finished()) timer_.expires_at(engine_->expiry());
  }
  changed_.notify();
}

Task<bool> QuicConnection::handshake(Clock::time_point deadline) {
  while (!engine_->handshake_completed()) {
    if (engine_->finished()) co_return false;
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) co_return false;
  }
  co_return !engine_->finished();
}

void QuicConnection::on_registration_data(std::string_view bytes, bool fin) {
  registration_in_.append(bytes);
  if (fin) registration_ended_ = true;
  changed_.notify();
}

Task<Result<std::string>> QuicConnection::read_registration(
    Clock::time_point deadline, std::size_t limit, std::function<bool(std::string_view)> complete) {
  for (;;) {
    if (registration_in_.size() > limit) co_return fail(Error::limit_exceeded);
    if (registration_ended_ || complete(registration_in_)) co_return registration_in_;
    if (engine_->finished()) co_return fail(engine_->end_reason());
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) co_return fail(Error::timeout);
  }
}

Task<void> QuicConnection::wait_closed(Clock::time_point deadline) {
  while (!engine_->finished()) {
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) co_return;
  }
}

void QuicConnection::close_with(std::uint64_t code, std::string_view reason) {
  engine_->close(code, reason, make_error_code(Error::session_closed));
}

void QuicConnection::close(Error reason) {
  engine_->close(kH3NoError, {}, make_error_code(reason));
}

void QuicConnection::on_connection_id(const ngtcp2_cid& cid, bool added) {
  if (!on_connection_id_) return;
  if (added) {
    connection_ids_.push_back(cid);
  } else {
    std::erase_if(connection_ids_,
                  [&](const ngtcp2_cid& known) { return ngtcp2_cid_eq(&known, &cid); });
  }
  on_connection_id_(*this, cid, added);
}

void QuicConnection::on_request(std::shared_ptr<H3StreamState> stream) {
  if (stream->head_oversized) {
    // Answered here: the handler never sees a head that broke the limits.
    ResponseHead too_large{431, {{"content-length", "0"}}};
    if (!engine_->respond(*stream, too_large, true)) engine_->reset(*stream, kH3RequestRejected);
    return;
  }
  auto head = parse_request_fields(std::move(stream->head));
  if (!head || !incoming_) {
    engine_->reset(*stream, kH3MessageError);
    return;
  }
  ++streams_total_;
  auto handle = std::make_unique<H3IncomingStream>(std::move(stream), executor_, std::move(*head));
  // Never run the handler inside an engine callback; by the time it runs,
  // the connection may be gone.
  asio::post(executor_,
             [this, alive = std::weak_ptr<bool>(alive_), handle = std::move(handle)]() mutable {
               if (alive.expired() || handle->ended_early()) return;  // reset with its head
               incoming_(std::move(handle));
             });
}

void QuicConnection::on_goaway() {
  logger_->info("session {} peer sent GOAWAY", identity_.session_id);
  if (on_peer_goaway_) {
    auto handler = std::move(on_peer_goaway_);
    on_peer_goaway_ = nullptr;
    asio::post(executor_, std::move(handler));
  }
  changed_.notify();
}

Task<std::error_code> QuicConnection::run() {
  while (!engine_->finished()) co_await changed_.wait();
  timer_.cancel();
  output_ready_.notify();
  co_await loops_.join();
  // A drain() still waiting must leave before the owner may destroy us.
  while (drains_running_ > 0) co_await changed_.wait();
  const auto reason = engine_->end_reason();
  co_return reason ? reason : make_error_code(Error::session_closed);
}

SessionStats QuicConnection::stats() const {
  SessionStats s;
  s.inflight = engine_->open_streams();
  s.streams_total = streams_total_;
  s.bytes_in = bytes_in_;
  s.bytes_out = bytes_out_;
  s.rtt = engine_->rtt();
  return s;
}

Task<Result<std::unique_ptr<TunnelStream>>> QuicConnection::open_stream(const RequestHead& head,
                                                                        bool end_stream) {
  const auto give_up = Clock::now() + kStreamLimitWait;
  while (!engine_->can_open_stream()) {
    if (engine_->finished()) co_return fail(Error::session_closed);
    if (engine_->going_away()) co_return fail(Error::stream_refused);
    const bool woken = co_await changed_.wait_until(give_up);
    if (!woken && Clock::now() >= give_up) co_return fail(Error::stream_refused);
  }
  auto state = engine_->open_stream(head, end_stream);
  if (!state) co_return fail(state.error());
  ++streams_total_;
  co_return std::unique_ptr<TunnelStream>(
      std::make_unique<H3TunnelStream>(std::move(*state), executor_));
}

Task<std::size_t> QuicConnection::drain(Clock::time_point deadline) {
  // Counted here, synchronously, as H2Connection::drain: run() waits for it.
  ++drains_running_;
  return drain_until(deadline);
}

Task<std::size_t> QuicConnection::drain_until(Clock::time_point deadline) {
  go_away();
  while (engine_->open_streams() > 0 && !engine_->finished()) {
    const bool woken = co_await changed_.wait_until(deadline);
    if (!woken && Clock::now() >= deadline) break;
  }
  const std::size_t cut = engine_->open_streams();
  engine_->close(kH3NoError, {}, make_error_code(cut > 0 ? Error::timeout : Error::session_closed));
  --drains_running_;
  changed_.notify();
  co_return cut;
}

}  // namespace dialback::quic
