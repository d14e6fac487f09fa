// QuicEngine: one reversed-HTTP/3 connection as a datagram-in /
// datagram-out state machine around ngtcp2 (QUIC, with GnuTLS) and nghttp3
// (HTTP/3). It owns no socket and no timer: its driver feeds received
// datagrams and time, writes the datagrams it produces, and calls
// handle_expiry() at expiry(). Single-threaded.
//
// Between agent and edge, roles are swapped against plain HTTP/3
// (docs/protocol.md §10): the agent is the QUIC client and the HTTP/3
// server, the edge the QUIC server and the HTTP/3 client, opening
// server-initiated bidirectional streams (1, 5, 9, ...). nghttp3 decides
// roles from stream-id bits alone, so every stream id crosses the boundary
// to nghttp3 as `id ^ 1` on both ends (translate_id): the edge's streams
// look client-initiated to both nghttp3 instances, and ids carried inside
// frames (GOAWAY) stay consistent because both ends translate. The first
// bidirectional stream the agent opens (id 0) carries the registration and
// never reaches nghttp3.
//
// The third side, public_server, is plain HTTP/3 (public.h3): QUIC server
// and HTTP/3 server, no translation, no registration stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "config/quic_settings.hpp"
#include "core/asio.hpp"
#include "core/error.hpp"
#include "core/result.hpp"
#include "transport/quic/h3_stream_state.hpp"
#include "transport/quic/quic_tls.hpp"
#include "tunnel/message.hpp"

namespace dialback::quic {

using udp = asio::ip::udp;

enum class Side {
  edge,           // QUIC server, HTTP/3 client: opens the request streams
  agent,          // QUIC client, HTTP/3 server: answers them
  public_server,  // QUIC server, HTTP/3 server: a public client's requests
};

struct QuicEngineSettings {
  std::uint64_t stream_window = 16u << 20;      // what the peer may send ahead per stream
  std::uint64_t connection_window = 32u << 20;  // ... on the whole connection
  std::uint64_t max_streams = 1000;  // agent: request streams the edge may have open at once
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds keep_alive{std::chrono::seconds(10)};  // 0: off
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // A writer waits once this many bytes of its body wait to be sent.
  std::size_t stream_send_buffer = 256u << 10;
  std::size_t max_header_bytes = 64u << 10;  // a larger header block fails its stream
  CongestionControl congestion_control = CongestionControl::bbr2;  // of what we send
};

// The engine settings of a config section (agents.quic, the agent's quic).
QuicEngineSettings engine_settings(const QuicSettings& config);

// The two addresses of a datagram, as ngtcp2 names a network path.
struct UdpPath {
  udp::endpoint local;
  udp::endpoint remote;
};

// HTTP/3 error codes (RFC 9114 §8.1) dialback sends.
inline constexpr std::uint64_t kH3NoError = 0x100;
inline constexpr std::uint64_t kH3InternalError = 0x102;
inline constexpr std::uint64_t kH3RequestRejected = 0x10b;
inline constexpr std::uint64_t kH3RequestCancelled = 0x10c;
inline constexpr std::uint64_t kH3MessageError = 0x10e;

// The bidirectional stream that carries the registration (the agent's
// first); on the agent-edge sides only.
inline constexpr std::int64_t kRegistrationStream = 0;

// What the engine reports to its driver. Called from inside an engine call;
// must not destroy the engine.
class QuicObserver {
 public:
  virtual void on_handshake_completed() = 0;
  // Bytes of the registration stream in order; `fin` at its end.
  virtual void on_registration_data(std::string_view bytes, bool fin) = 0;
  // Agent: a request head arrived on a new stream.
  virtual void on_request(std::shared_ptr<H3StreamState> stream) = 0;
  // The peer sent GOAWAY: no new streams.
  virtual void on_goaway() = 0;
  virtual void on_stream_closed() = 0;
  // Edge: a connection id of ours was issued or retired (datagrams are
  // routed by connection id, which is what lets the agent move).
  virtual void on_connection_id(const ngtcp2_cid& cid, bool added) = 0;
  // A call from outside (a stream handle, the session) queued something to
  // send: write_datagram() has work.
  virtual void on_output_ready() = 0;

 protected:
  ~QuicObserver() = default;
};

class QuicEngine {
 public:
  using Clock = std::chrono::steady_clock;

  // Agent: a new connection over `path`.
  static Result<std::unique_ptr<QuicEngine>> connect(const QuicEngineSettings& settings,
                                                     QuicObserver& observer, TlsSession tls,
                                                     const UdpPath& path, Clock::time_point now);
  // Edge (`side` edge or public_server): the connection that `initial` (a
  // client Initial that ngtcp2_accept accepted, with header `hd`) starts. `original_dcid` is set
  // when the client came back with a Retry token (it is the id before the Retry). `reset_secret`
  // derives the stateless-reset tokens of our connection ids.
  static Result<std::unique_ptr<QuicEngine>> accept(Side side, const QuicEngineSettings& settings,
                                                    QuicObserver& observer, TlsSession tls,
                                                    const UdpPath& path, const ngtcp2_pkt_hd& hd,
                                                    const ngtcp2_cid* original_dcid,
                                                    std::span<const std::uint8_t> reset_secret,
                                                    Clock::time_point now);
  ~QuicEngine();
  QuicEngine(const QuicEngine&) = delete;
  QuicEngine& operator=(const QuicEngine&) = delete;

  Side side() const { return side_; }
  ngtcp2_conn* native() const { return conn_; }

  // A datagram that arrived over `path`. Fails when the connection ended
  // (then finished() is true, and end_reason() says why).
  Result<void> receive(const UdpPath& path, std::span<const std::uint8_t> datagram,
                       Clock::time_point now);
  // Writes the next datagram into `buffer` (kMaxDatagram bytes at least) and
  // its path into `path`; returns its size, 0 when there is nothing to send
  // now (congestion or pacing: try again at expiry()).
  static constexpr std::size_t kMaxDatagram = 1500;
  std::size_t write_datagram(std::span<std::uint8_t> buffer, UdpPath& path, Clock::time_point now);
  // When handle_expiry() must run next; time_point::max() when never.
  Clock::time_point expiry() const;
  void handle_expiry(Clock::time_point now);
  // The connection ended: closed by either side, timed out or failed. Its
  // last datagram (CONNECTION_CLOSE) has been written by write_datagram.
  bool finished() const { return finished_; }
  std::error_code end_reason() const { return end_reason_; }
  // The peer's CONNECTION_CLOSE, when it sent one: application error code and reason.
  const std::optional<std::pair<std::uint64_t, std::string>>& peer_close() const {
    return peer_close_;
  }
  bool handshake_completed() const { return handshake_completed_; }
  gnutls_session_t tls() const { return tls_.get(); }

  // Agent: queues the registration bytes on a new stream (which it opens);
  // edge: queues the answer on the registration stream. `fin` ends our side.
  Result<void> send_registration(std::string_view bytes, bool fin);

  // Edge: opens a request stream; fails with Error::stream_refused while
  // the agent's stream limit is reached (can_open_stream()) or after GOAWAY.
  Result<std::shared_ptr<H3StreamState>> open_stream(const RequestHead& head, bool end_stream);
  bool can_open_stream() const;
  // Agent: answers `stream`.
  Result<void> respond(H3StreamState& stream, const ResponseHead& head, bool end_stream);
  Result<void> respond_informational(H3StreamState& stream, const ResponseHead& head);
  Result<void> write_body(H3StreamState& stream, std::string_view data);
  Result<void> end_body(H3StreamState& stream, HeaderList trailers);
  // The reader took `bytes` of inbound body: reopen the flow-control window.
  void consume(H3StreamState& stream, std::size_t bytes);
  void reset(H3StreamState& stream, std::uint64_t h3_error_code);
  // HTTP/3 GOAWAY: no new streams; open ones continue.
  void go_away();
  bool going_away() const { return going_away_ || peer_goaway_; }
  // Ends the connection: every open stream fails with `reason`, and
  // CONNECTION_CLOSE carrying the application error `code` and `text` goes
  // out with the next write_datagram().
  void close(std::uint64_t code, std::string_view text, std::error_code reason);

  std::size_t open_streams() const { return streams_.size(); }
  const QuicEngineSettings& settings() const { return settings_; }
  std::chrono::microseconds rtt() const;

 private:
  friend struct Callbacks;

  QuicEngine(Side side, const QuicEngineSettings& settings, QuicObserver& observer, TlsSession tls);
  bool quic_server() const { return side_ != Side::agent; }
  bool h3_server() const { return side_ != Side::edge; }
  // The stream id nghttp3 sees for QUIC stream `id`, and back (the same map).
  std::int64_t translate_id(std::int64_t id) const {
    return id < 0 || side_ == Side::public_server ? id : id ^ 1;
  }
  bool is_registration(std::int64_t id) const {
    return id == kRegistrationStream && side_ != Side::public_server;
  }
  Result<void> create_http3();
  // After ngtcp2_conn_*_new: the TLS session and the keep-alive timer.
  void attach_tls_and_keep_alive();
  // At handshake completion: our control and QPACK streams.
  bool start_http3();
  void fail_connection(int liberr);
  void end(std::error_code reason);
  void close_stream(std::int64_t id, std::uint64_t app_error_code);
  H3StreamState* find(std::int64_t id);
  std::shared_ptr<H3StreamState> incoming_stream(std::int64_t id);
  void resume(H3StreamState& stream);
  std::size_t write_close(std::span<std::uint8_t> buffer, UdpPath& path, Clock::time_point now);
  void set_path(const UdpPath& path);
  static std::uint64_t timestamp(Clock::time_point t);

  Side side_;
  QuicEngineSettings settings_;
  QuicObserver& observer_;
  TlsSession tls_;
  ngtcp2_crypto_conn_ref conn_ref_{};
  ngtcp2_conn* conn_ = nullptr;
  nghttp3_conn* h3_ = nullptr;
  ngtcp2_path_storage path_storage_{};  // the sockaddrs of the path being read
  ngtcp2_connection_close_error close_error_{};
  bool close_error_set_ = false;
  std::string close_text_;
  std::unordered_map<std::int64_t, std::shared_ptr<H3StreamState>> streams_;
  std::vector<nghttp3_nv> fields_;  // header list being submitted; keeps its capacity
  std::string status_text_;
  // The registration stream: bytes to send (kept until the peer acknowledged
  // them, as ngtcp2 requires) and how far they went.
  std::int64_t registration_stream_ = -1;
  std::string registration_out_;
  std::size_t registration_sent_ = 0;
  bool registration_fin_ = false;
  bool registration_fin_sent_ = false;
  bool registration_blocked_ = false;  // by the peer's flow control
  std::vector<std::uint8_t> reset_secret_;
  std::optional<std::pair<std::uint64_t, std::string>> peer_close_;
  std::error_code end_reason_;
  bool handshake_completed_ = false;
  bool going_away_ = false;
  bool peer_goaway_ = false;
  bool closing_ = false;  // close() called: CONNECTION_CLOSE still to write
  bool finished_ = false;
};

}  // namespace dialback::quic
