// QuicConnection: drives one QuicEngine with coroutines. Datagrams come in
// through receive() from whoever owns the socket (the edge's listener, the
// agent's client socket) and go out through a DatagramSender; a flush loop
// writes what the engine has to send, and a timer loop runs the engine's
// timers (loss recovery, acknowledgements, keep-alive, idle timeout).
//
// It is the session of the `h3` transport on both ends: on the edge the
// TunnelSession that opens request streams, on the agent the Session that
// hands every incoming stream to the IncomingHandler. Before that, the
// registration travels on its own stream (read_registration(),
// send_registration()). A public HTTP/3 connection (Side::public_server)
// uses only the IncomingHandler.
//
// The loops start in the constructor, so the owner must co_await run()
// once, even when the registration failed (close() first); the object must
// outlive run(). All calls happen on the executor.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/async_event.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "transport/quic/quic_engine.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::quic {

// Where a connection's datagrams go.
class DatagramSender {
 public:
  // `data`: datagrams of `segment_size` bytes each (the last may be
  // shorter), all on `path` (one GSO send where the socket can).
  virtual void send(const UdpPath& path, std::span<const std::uint8_t> data,
                    std::size_t segment_size) = 0;

 protected:
  ~DatagramSender() = default;
};

class QuicConnection final : public TunnelSession, private QuicObserver {
 public:
  using IncomingHandler = std::function<void(std::unique_ptr<IncomingStream>)>;
  // Edge: each connection id of ours issued (true) or retired (false).
  using ConnectionIdHandler = std::function<void(QuicConnection&, const ngtcp2_cid&, bool)>;

  // Agent: a new connection over `path`.
  static Result<std::unique_ptr<QuicConnection>> connect(asio::any_io_executor executor,
                                                         const QuicEngineSettings& settings,
                                                         TlsSession tls, const UdpPath& path,
                                                         DatagramSender& sender, Logger logger);
  // Edge: the connection a client Initial starts (QuicEngine::accept).
  static Result<std::unique_ptr<QuicConnection>> accept(
      asio::any_io_executor executor, Side side, const QuicEngineSettings& settings, TlsSession tls,
      const UdpPath& path, const ngtcp2_pkt_hd& hd, const ngtcp2_cid* original_dcid,
      std::span<const std::uint8_t> reset_secret, DatagramSender& sender,
      ConnectionIdHandler on_connection_id, Logger logger);
  ~QuicConnection() override;

  // A datagram for this connection.
  void receive(const UdpPath& path, std::span<const std::uint8_t> datagram);

  // Waits for the TLS handshake; false when the connection ended or the deadline passed.
  Task<bool> handshake(std::chrono::steady_clock::time_point deadline);
  // The registration stream's bytes so far, once `complete` says they are
  // all there (or the peer ended the stream); fails at `deadline`, past
  // `limit` bytes, or when the connection ends.
  Task<Result<std::string>> read_registration(std::chrono::steady_clock::time_point deadline,
                                              std::size_t limit,
                                              std::function<bool(std::string_view)> complete);
  Result<void> send_registration(std::string_view bytes, bool fin) {
    return engine_->send_registration(bytes, fin);
  }
  // Waits until the peer closed the connection or `deadline` passed.
  Task<void> wait_closed(std::chrono::steady_clock::time_point deadline);
  // Ends the connection with an application error (CONNECTION_CLOSE).
  void close_with(std::uint64_t code, std::string_view reason);

  void set_identity(SessionIdentity identity) { identity_ = std::move(identity); }
  void set_incoming_handler(IncomingHandler handler) { incoming_ = std::move(handler); }
  void set_goaway_handler(std::function<void()> handler) { on_peer_goaway_ = std::move(handler); }
  const QuicEngine& engine() const { return *engine_; }
  // Edge: routes datagrams addressed to `cid` (the client's first
  // destination id) here too, until the connection is destroyed.
  void add_connection_id_alias(const ngtcp2_cid& cid) { on_connection_id(cid, true); }

  // Session
  Task<std::error_code> run() override;
  void close(Error reason) override;
  Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) override;
  const SessionIdentity& identity() const override { return identity_; }
  SessionStats stats() const override;
  asio::any_io_executor executor() const override { return executor_; }

  // TunnelSession
  bool accepting() const override { return !engine_->finished() && !engine_->going_away(); }
  Task<Result<std::unique_ptr<TunnelStream>>> open_stream(const RequestHead& head,
                                                          bool end_stream) override;
  void go_away() override { engine_->go_away(); }

 private:
  QuicConnection(asio::any_io_executor executor, DatagramSender& sender, Logger logger);
  void start();

  // QuicObserver
  void on_handshake_completed() override { changed_.notify(); }
  void on_registration_data(std::string_view bytes, bool fin) override;
  void on_request(std::shared_ptr<H3StreamState> stream) override;
  void on_goaway() override;
  void on_stream_closed() override { changed_.notify(); }
  void on_connection_id(const ngtcp2_cid& cid, bool added) override;
  void on_output_ready() override;

  Task<void> flush_loop();
  Task<void> timer_loop();
  void flush();
  Task<std::size_t> drain_until(std::chrono::steady_clock::time_point deadline);

  asio::any_io_executor executor_;
  DatagramSender& sender_;
  Logger logger_;
  std::unique_ptr<QuicEngine> engine_;
  SessionIdentity identity_;
  ConnectionIdHandler on_connection_id_;
  IncomingHandler incoming_;
  std::function<void()> on_peer_goaway_;
  AsyncEvent changed_;  // handshake, registration bytes, streams, the end
  AsyncEvent output_ready_;
  asio::steady_timer timer_;
  TaskGroup loops_;                         // flush and timer loops; run() joins them
  std::vector<ngtcp2_cid> connection_ids_;  // edge: routed here; unrouted on destruction
  std::string registration_in_;
  bool registration_ended_ = false;
  bool output_pending_ = false;
  int drains_running_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expires with us
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t streams_total_ = 0;
};

}  // namespace dialback::quic
