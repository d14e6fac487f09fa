#include "transport/quic/quic_engine.hpp"

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <gnutls/crypto.h>

#include "transport/quic/quic_engine_callbacks.hpp"

namespace dialback::quic {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kConnectionIdLength = 16;
// Unidirectional streams each side may open: HTTP/3 needs three (control,
// QPACK encoder and decoder); the rest is room for stream types a peer
// may add and we ignore (RFC 9114 §6.2.3).
constexpr std::uint64_t kMaxUniStreams = 8;
constexpr std::uint64_t kUniStreamWindow = 1u << 20;
// The registration stream carries a few hundred bytes each way.
constexpr std::uint64_t kRegistrationWindow = 64u << 10;

ngtcp2_cid random_cid() {
  ngtcp2_cid cid{};
  cid.datalen = kConnectionIdLength;
  (void)gnutls_rnd(GNUTLS_RND_RANDOM, cid.data, cid.datalen);
  return cid;
}

nghttp3_nv field(std::string_view name, std::string_view value) {
  // nghttp3 copies the fields on submit: the views need not outlive it.
  return nghttp3_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP3_NV_FLAG_NONE};
}

void request_fields(const RequestHead& head, std::vector<nghttp3_nv>& out) {
  out.clear();
  out.push_back(field(":method", head.method));
  // A plain CONNECT carries only :method and :authority (RFC 9114 §4.4).
  const bool plain_connect = head.method == "CONNECT" && head.protocol.empty();
  if (!plain_connect) out.push_back(field(":scheme", head.scheme));
  out.push_back(field(":authority", head.authority));
  if (!plain_connect) out.push_back(field(":path", head.path));
  if (!head.protocol.empty()) out.push_back(field(":protocol", head.protocol));
  for (const auto& h : head.headers) out.push_back(field(h.name, h.value));
}

void response_fields(const ResponseHead& head, std::string& status, std::vector<nghttp3_nv>& out) {
  status = std::to_string(head.status);
  out.clear();
  out.push_back(field(":status", status));
  for (const auto& h : head.headers) out.push_back(field(h.name, h.value));
}

void plain_fields(const HeaderList& headers, std::vector<nghttp3_nv>& out) {
  out.clear();
  for (const auto& h : headers) out.push_back(field(h.name, h.value));
}

void to_endpoint(const ngtcp2_addr& addr, udp::endpoint& out) {
  std::memcpy(out.data(), addr.addr, std::min<std::size_t>(addr.addrlen, out.capacity()));
  out.resize(addr.addrlen);
}

}  // namespace

QuicEngineSettings engine_settings(const QuicSettings& config) {
  QuicEngineSettings settings;
  settings.idle_timeout = config.idle_timeout;
  settings.keep_alive = config.keep_alive;
  settings.handshake_timeout = config.handshake_timeout;
  settings.max_streams = config.max_streams;
  settings.stream_window = config.windows.stream;
  settings.connection_window = config.windows.connection;
  settings.congestion_control = config.congestion_control;
  return settings;
}

namespace {

void debug_log(void*, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

ngtcp2_settings quic_settings(const QuicEngineSettings& s, Clock::time_point now) {
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = static_cast<ngtcp2_tstamp>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  settings.handshake_timeout = static_cast<ngtcp2_duration>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(s.handshake_timeout).count());
  settings.cc_algo =
      s.congestion_control == CongestionControl::cubic ? NGTCP2_CC_ALGO_CUBIC : NGTCP2_CC_ALGO_BBR2;
  if (std::getenv("DIALBACK_QUIC_DEBUG") != nullptr) settings.log_printf = debug_log;
  return settings;
}

ngtcp2_transport_params transport_params(Side side, const QuicEngineSettings& s) {
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_data = s.connection_window;
  params.initial_max_stream_data_uni = kUniStreamWindow;
  params.initial_max_streams_uni = kMaxUniStreams;
  switch (side) {
    case Side::agent:
      params.initial_max_streams_bidi = s.max_streams;               // the edge's request streams
      params.initial_max_stream_data_bidi_remote = s.stream_window;  // request bodies
      params.initial_max_stream_data_bidi_local = kRegistrationWindow;
      break;
    case Side::edge:
      params.initial_max_streams_bidi = 1;  // the registration stream
      params.initial_max_stream_data_bidi_remote = kRegistrationWindow;
      params.initial_max_stream_data_bidi_local = s.stream_window;  // response bodies
      break;
    case Side::public_server:
      params.initial_max_streams_bidi = s.max_streams;               // the client's requests
      params.initial_max_stream_data_bidi_remote = s.stream_window;  // request bodies
      break;
  }
  params.max_idle_timeout = static_cast<ngtcp2_duration>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(s.idle_timeout).count());
  params.active_connection_id_limit = 8;
  return params;
}

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
  return static_cast<QuicEngine*>(ref->user_data)->native();
}

}  // namespace

QuicEngine::QuicEngine(Side side, const QuicEngineSettings& settings, QuicObserver& observer,
                       TlsSession tls)
    : side_(side), settings_(settings), observer_(observer), tls_(std::move(tls)) {
  ngtcp2_connection_close_error_default(&close_error_);
  ngtcp2_path_storage_zero(&path_storage_);
  conn_ref_.get_conn = get_conn;
  conn_ref_.user_data = this;
  gnutls_session_set_ptr(tls_.get(), &conn_ref_);
}

std::uint64_t QuicEngine::timestamp(Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

void QuicEngine::set_path(const UdpPath& path) {
  ngtcp2_path_storage_init(&path_storage_, path.local.data(), path.local.size(), path.remote.data(),
                           path.remote.size(), nullptr);
}

Result<void> QuicEngine::create_http3() {
  nghttp3_callbacks callbacks = h3_callbacks();
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = settings_.max_header_bytes;
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_encoder_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  // WebSocket (RFC 9220): the HTTP/3 server accepts extended CONNECT.
  settings.enable_connect_protocol = h3_server() ? 1 : 0;
  const int rv =
      h3_server()
          ? nghttp3_conn_server_new(&h3_, &callbacks, &settings, nghttp3_mem_default(), this)
          : nghttp3_conn_client_new(&h3_, &callbacks, &settings, nghttp3_mem_default(), this);
  if (rv != 0) return fail(Error::protocol_error);
  if (h3_server()) nghttp3_conn_set_max_client_streams_bidi(h3_, settings_.max_streams);
  return {};
}

bool QuicEngine::start_http3() {
  std::int64_t control = -1;
  std::int64_t encoder = -1;
  std::int64_t decoder = -1;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0) {
    return false;
  }
  return nghttp3_conn_bind_control_stream(h3_, translate_id(control)) == 0 &&
         nghttp3_conn_bind_qpack_streams(h3_, translate_id(encoder), translate_id(decoder)) == 0;
}

Result<std::unique_ptr<QuicEngine>> QuicEngine::connect(const QuicEngineSettings& settings,
                                                        QuicObserver& observer, TlsSession tls,
                                                        const UdpPath& path,
                                                        Clock::time_point now) {
  std::unique_ptr<QuicEngine> engine(
      new QuicEngine(Side::agent, settings, observer, std::move(tls)));
  if (auto made = engine->create_http3(); !made) return fail(made.error());
  const ngtcp2_cid dcid = random_cid();
  const ngtcp2_cid scid = random_cid();
  const ngtcp2_callbacks callbacks = quic_callbacks(Side::agent);
  const ngtcp2_settings quic = quic_settings(settings, now);
  const ngtcp2_transport_params params = transport_params(Side::agent, settings);
  engine->set_path(path);
  if (ngtcp2_conn_client_new(&engine->conn_, &dcid, &scid, &engine->path_storage_.path,
                             NGTCP2_PROTO_VER_V1, &callbacks, &quic, &params, nullptr,
                             engine.get()) != 0) {
    return fail(Error::protocol_error);
  }
  engine->attach_tls_and_keep_alive();
  return engine;
}

Result<std::unique_ptr<QuicEngine>> QuicEngine::accept(
    Side side, const QuicEngineSettings& settings, QuicObserver& observer, TlsSession tls,
    const UdpPath& path, const ngtcp2_pkt_hd& hd, const ngtcp2_cid* original_dcid,
    std::span<const std::uint8_t> reset_secret, Clock::time_point now) {
  if (side == Side::agent) return fail(Error::protocol_error);  // the agent only connects
  std::unique_ptr<QuicEngine> engine(new QuicEngine(side, settings, observer, std::move(tls)));
  engine->reset_secret_.assign(reset_secret.begin(), reset_secret.end());
  if (auto made = engine->create_http3(); !made) return fail(made.error());
  const ngtcp2_cid scid = random_cid();
  const ngtcp2_callbacks callbacks = quic_callbacks(side);
  ngtcp2_settings quic = quic_settings(settings, now);
  if (original_dcid != nullptr) {
    // The address was validated by the Retry round trip.
    quic.token = ngtcp2_vec{const_cast<std::uint8_t*>(hd.token.base), hd.token.len};
  }
  ngtcp2_transport_params params = transport_params(side, settings);
  if (original_dcid != nullptr) {
    params.original_dcid = *original_dcid;
    params.retry_scid = hd.dcid;
    params.retry_scid_present = 1;
  } else {
    params.original_dcid = hd.dcid;
  }
  params.stateless_reset_token_present = 1;
  if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
                                                   engine->reset_secret_.data(),
                                                   engine->reset_secret_.size(), &scid) != 0) {
    return fail(Error::protocol_error);
  }
  engine->set_path(path);
  if (ngtcp2_conn_server_new(&engine->conn_, &hd.scid, &scid, &engine->path_storage_.path,
                             hd.version, &callbacks, &quic, &params, nullptr, engine.get()) != 0) {
    return fail(Error::protocol_error);
  }
  engine->attach_tls_and_keep_alive();
  observer.on_connection_id(scid, true);
  return engine;
}

void QuicEngine::attach_tls_and_keep_alive() {
  ngtcp2_conn_set_tls_native_handle(conn_, tls_.get());
  if (settings_.keep_alive.count() > 0) {
    ngtcp2_conn_set_keep_alive_timeout(
        conn_, static_cast<ngtcp2_duration>(
                   std::chrono::duration_cast<std::chrono::nanoseconds>(settings_.keep_alive)
                       .count()));
  }
}

QuicEngine::~QuicEngine() {
  // Handles may outlive the engine: they see the stream failed. The
  // observer is not told (it may be going away with us).
  for (auto& [id, stream] : streams_) {
    stream->closed = true;
    stream->engine = nullptr;
    if (!stream->error) stream->error = Error::session_closed;
    stream->wake();
  }
  streams_.clear();
  if (h3_ != nullptr) nghttp3_conn_del(h3_);
  if (conn_ != nullptr) ngtcp2_conn_del(conn_);
}

Result<void> QuicEngine::receive(const UdpPath& path, std::span<const std::uint8_t> datagram,
                                 Clock::time_point now) {
  if (finished_ || closing_) return fail(end_reason_);
  set_path(path);
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(conn_, &path_storage_.path, &info, datagram.data(),
                                      datagram.size(), timestamp(now));
  if (rv == 0) return {};
  fail_connection(rv);
  return fail(end_reason_);
}

void QuicEngine::fail_connection(int liberr) {
  switch (liberr) {
    case NGTCP2_ERR_DRAINING: {
      // The peer closed: nothing more to send.
      const ngtcp2_connection_close_error* peer = nullptr;
      ngtcp2_connection_close_error received;
      ngtcp2_conn_get_connection_close_error(conn_, &received);
      peer = &received;
      if (peer->type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
        peer_close_.emplace(
            peer->error_code,
            std::string(reinterpret_cast<const char*>(peer->reason), peer->reasonlen));
      }
      finished_ = true;
      end(make_error_code(Error::session_closed));
      return;
    }
    case NGTCP2_ERR_IDLE_CLOSE:
      finished_ = true;
      end(make_error_code(Error::ping_timeout));  // silence past the idle timeout
      return;
    case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
      finished_ = true;
      end(make_error_code(Error::timeout));
      return;
    case NGTCP2_ERR_DROP_CONN:
    case NGTCP2_ERR_RETRY:
      finished_ = true;
      end(make_error_code(Error::protocol_error));
      return;
    case NGTCP2_ERR_CRYPTO:
      if (!close_error_set_) {
        ngtcp2_connection_close_error_set_transport_error_tls_alert(
            &close_error_, ngtcp2_conn_get_tls_alert(conn_), nullptr, 0);
      }
      break;
    default:
      if (!close_error_set_) {
        ngtcp2_connection_close_error_set_transport_error_liberr(&close_error_, liberr, nullptr, 0);
      }
      break;
  }
  close_error_set_ = true;
  closing_ = true;
  end(make_error_code(Error::protocol_error));
}

void QuicEngine::end(std::error_code reason) {
  if (!end_reason_) end_reason_ = reason;
  if (streams_.empty()) return;
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    stream->closed = true;
    stream->engine = nullptr;
    if (!stream->error) stream->error = reason;
    stream->wake();
  }
  observer_.on_stream_closed();
}

void QuicEngine::close(std::uint64_t code, std::string_view text, std::error_code reason) {
  if (finished_ || closing_) return;
  close_text_.assign(text);
  ngtcp2_connection_close_error_set_application_error(
      &close_error_, code, reinterpret_cast<std::uint8_t*>(close_text_.data()), close_text_.size());
  close_error_set_ = true;
  closing_ = true;
  end(reason);
  observer_.on_output_ready();
}

Clock::time_point QuicEngine::expiry() const {
  if (finished_) return Clock::time_point::max();
  if (closing_) return Clock::time_point::min();  // the CONNECTION_CLOSE is due now
  const ngtcp2_tstamp at = ngtcp2_conn_get_expiry(conn_);
  if (at == UINT64_MAX) return Clock::time_point::max();
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(at)));
}

void QuicEngine::handle_expiry(Clock::time_point now) {
  if (finished_ || closing_) return;
  const int rv = ngtcp2_conn_handle_expiry(conn_, timestamp(now));
  if (rv != 0) fail_connection(rv);
}

std::size_t QuicEngine::write_close(std::span<std::uint8_t> buffer, UdpPath& path,
                                    Clock::time_point now) {
  finished_ = true;
  if (ngtcp2_conn_is_in_closing_period(conn_) != 0 ||
      ngtcp2_conn_is_in_draining_period(conn_) != 0) {
    return 0;
  }
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
      conn_, &ps.path, &info, buffer.data(), buffer.size(), &close_error_, timestamp(now));
  if (n <= 0) return 0;
  to_endpoint(ps.path.local, path.local);
  to_endpoint(ps.path.remote, path.remote);
  return static_cast<std::size_t>(n);
}

std::size_t QuicEngine::write_datagram(std::span<std::uint8_t> buffer, UdpPath& path,
                                       Clock::time_point now) {
  if (finished_) return 0;
  if (closing_) return write_close(buffer, path, now);
  const auto ts = timestamp(now);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  std::array<nghttp3_vec, 16> vec;
  for (;;) {
    std::int64_t stream_id = -1;
    int fin = 0;
    nghttp3_ssize count = 0;
    const bool registration = registration_stream_ >= 0 && !registration_blocked_ &&
                              (registration_sent_ < registration_out_.size() ||
                               (registration_fin_ && !registration_fin_sent_));
    if (registration) {
      stream_id = registration_stream_;
      fin = registration_fin_ ? 1 : 0;
      if (registration_sent_ < registration_out_.size()) {
        vec[0].base =
            reinterpret_cast<std::uint8_t*>(registration_out_.data()) + registration_sent_;
        vec[0].len = registration_out_.size() - registration_sent_;
        count = 1;
      }
    } else if (handshake_completed_ && ngtcp2_conn_get_max_data_left(conn_) > 0) {
      std::int64_t h3_id = -1;
      count = nghttp3_conn_writev_stream(h3_, &h3_id, &fin, vec.data(), vec.size());
      if (count < 0) {
        close(nghttp3_err_infer_quic_app_error_code(static_cast<int>(count)), {},
              make_error_code(Error::protocol_error));
        return write_close(buffer, path, now);
      }
      stream_id = translate_id(h3_id);
    }
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin != 0) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize accepted = -1;
    const ngtcp2_ssize n = ngtcp2_conn_writev_stream(
        conn_, &ps.path, &info, buffer.data(), buffer.size(), &accepted, flags, stream_id,
        reinterpret_cast<const ngtcp2_vec*>(vec.data()), static_cast<std::size_t>(count), ts);
    if (accepted >= 0 && stream_id >= 0) {
      if (registration) {
        registration_sent_ += static_cast<std::size_t>(accepted);
        if (registration_fin_ && registration_sent_ == registration_out_.size()) {
          registration_fin_sent_ = true;
        }
      } else if (nghttp3_conn_add_write_offset(h3_, translate_id(stream_id),
                                               static_cast<std::size_t>(accepted)) != 0) {
        close(kH3InternalError, {}, make_error_code(Error::protocol_error));
        return write_close(buffer, path, now);
      }
    }
    if (n < 0) {
      switch (n) {
        case NGTCP2_ERR_WRITE_MORE: continue;
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          if (registration) {
            registration_blocked_ = true;
          } else {
            nghttp3_conn_block_stream(h3_, translate_id(stream_id));
          }
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
          if (registration) {
            registration_sent_ = registration_out_.size();
            registration_fin_sent_ = true;
          } else {
            nghttp3_conn_shutdown_stream_write(h3_, translate_id(stream_id));
          }
          continue;
        default:
          fail_connection(static_cast<int>(n));
          return finished_ ? 0 : write_close(buffer, path, now);
      }
    }
    if (n == 0) {
      ngtcp2_conn_update_pkt_tx_time(conn_, ts);
      return 0;
    }
    to_endpoint(ps.path.local, path.local);
    to_endpoint(ps.path.remote, path.remote);
    return static_cast<std::size_t>(n);
  }
}

Result<void> QuicEngine::send_registration(std::string_view bytes, bool fin) {
  if (finished_ || closing_) return fail(end_reason_);
  if (side_ == Side::public_server) return fail(Error::protocol_error);  // no registration
  if (registration_stream_ < 0) {
    if (side_ == Side::agent) {
      std::int64_t id = -1;
      if (ngtcp2_conn_open_bidi_stream(conn_, &id, nullptr) != 0 || id != kRegistrationStream) {
        return fail(Error::protocol_error);
      }
    }
    registration_stream_ = kRegistrationStream;
  }
  if (registration_fin_) return fail(Error::protocol_error);
  registration_out_.append(bytes);
  registration_fin_ = fin;
  observer_.on_output_ready();
  return {};
}

bool QuicEngine::can_open_stream() const {
  return !finished_ && !closing_ && !going_away() && ngtcp2_conn_get_streams_bidi_left(conn_) > 0;
}

Result<std::shared_ptr<H3StreamState>> QuicEngine::open_stream(const RequestHead& head,
                                                               bool end_stream) {
  if (side_ != Side::edge || finished_ || closing_ || going_away()) {
    return fail(finished_ || closing_ ? Error::session_closed : Error::stream_refused);
  }
  std::int64_t id = -1;
  if (int rv = ngtcp2_conn_open_bidi_stream(conn_, &id, nullptr); rv != 0) {
    return fail(rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? Error::stream_refused : Error::protocol_error);
  }
  auto stream = std::make_shared<H3StreamState>();
  stream->id = id;
  stream->engine = this;
  request_fields(head, fields_);
  nghttp3_data_reader reader = body_reader();
  if (nghttp3_conn_submit_request(h3_, translate_id(id), fields_.data(), fields_.size(),
                                  end_stream ? nullptr : &reader, stream.get()) != 0) {
    ngtcp2_conn_shutdown_stream(conn_, id, kH3InternalError);
    return fail(Error::protocol_error);
  }
  stream->has_provider = !end_stream;
  stream->out_ended = end_stream;
  streams_.emplace(id, stream);
  observer_.on_output_ready();
  return stream;
}

std::shared_ptr<H3StreamState> QuicEngine::incoming_stream(std::int64_t id) {
  auto& slot = streams_[id];
  if (!slot) {
    slot = std::make_shared<H3StreamState>();
    slot->id = id;
    slot->engine = this;
    nghttp3_conn_set_stream_user_data(h3_, translate_id(id), slot.get());
  }
  return slot;
}

H3StreamState* QuicEngine::find(std::int64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Result<void> QuicEngine::respond(H3StreamState& stream, const ResponseHead& head, bool end_stream) {
  if (stream.engine == nullptr)
    return fail(stream.error ? stream.error : make_error_code(Error::session_closed));
  response_fields(head, status_text_, fields_);
  nghttp3_data_reader reader = body_reader();
  if (nghttp3_conn_submit_response(h3_, translate_id(stream.id), fields_.data(), fields_.size(),
                                   end_stream ? nullptr : &reader) != 0) {
    return fail(Error::protocol_error);
  }
  stream.has_provider = !end_stream;
  stream.out_ended = end_stream;
  observer_.on_output_ready();
  return {};
}

Result<void> QuicEngine::respond_informational(H3StreamState& stream, const ResponseHead& head) {
  if (stream.engine == nullptr)
    return fail(stream.error ? stream.error : make_error_code(Error::session_closed));
  response_fields(head, status_text_, fields_);
  if (nghttp3_conn_submit_info(h3_, translate_id(stream.id), fields_.data(), fields_.size()) != 0) {
    return fail(Error::protocol_error);
  }
  observer_.on_output_ready();
  return {};
}

void QuicEngine::resume(H3StreamState& stream) {
  if (stream.deferred) {
    stream.deferred = false;
    nghttp3_conn_resume_stream(h3_, translate_id(stream.id));
  }
}

Result<void> QuicEngine::write_body(H3StreamState& stream, std::string_view data) {
  if (stream.engine == nullptr)
    return fail(stream.error ? stream.error : make_error_code(Error::session_closed));
  if (stream.out_ended || !stream.has_provider) return fail(Error::protocol_error);
  if (data.empty()) return {};
  stream.out.emplace_back(data);
  stream.out_unsent += data.size();
  resume(stream);
  observer_.on_output_ready();
  return {};
}

Result<void> QuicEngine::end_body(H3StreamState& stream, HeaderList trailers) {
  if (stream.engine == nullptr)
    return fail(stream.error ? stream.error : make_error_code(Error::session_closed));
  if (stream.out_ended) return {};
  if (!stream.has_provider) return fail(Error::protocol_error);
  stream.out_ended = true;
  if (!trailers.empty()) {
    stream.out_trailers = std::move(trailers);
    plain_fields(stream.out_trailers, fields_);
    if (nghttp3_conn_submit_trailers(h3_, translate_id(stream.id), fields_.data(),
                                     fields_.size()) != 0) {
      return fail(Error::protocol_error);
    }
  }
  resume(stream);
  observer_.on_output_ready();
  return {};
}

void QuicEngine::consume(H3StreamState& stream, std::size_t bytes) {
  bytes = std::min(bytes, stream.body_queued);
  stream.body_queued -= bytes;
  ngtcp2_conn_extend_max_stream_offset(conn_, stream.id, bytes);
  ngtcp2_conn_extend_max_offset(conn_, bytes);
  observer_.on_output_ready();  // the window update
}

void QuicEngine::reset(H3StreamState& stream, std::uint64_t h3_error_code) {
  if (stream.engine == nullptr) return;
  ngtcp2_conn_shutdown_stream(conn_, stream.id, h3_error_code);
  // The state goes now; nghttp3 keeps the stream until QUIC closes it and
  // must not call back with a pointer to it.
  nghttp3_conn_set_stream_user_data(h3_, translate_id(stream.id), nullptr);
  close_stream(stream.id, h3_error_code);
  observer_.on_output_ready();
}

void QuicEngine::close_stream(std::int64_t id, std::uint64_t code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto stream = std::move(it->second);
  streams_.erase(it);
  stream->closed = true;
  stream->engine = nullptr;
  if (!stream->error) {
    if (code == kH3RequestRejected) {
      stream->error = Error::stream_refused;
    } else if (stream->reset_received || !stream->body_ended || !stream->out_ended) {
      stream->error = Error::stream_reset;
    } else if (code != kH3NoError) {
      stream->error = Error::stream_invalid;
    }
  }
  // Body bytes nobody will read still count against the connection window.
  if (stream->body_queued > 0) {
    ngtcp2_conn_extend_max_offset(conn_, stream->body_queued);
    stream->body_queued = 0;
  }
  stream->wake();
  observer_.on_stream_closed();
}

void QuicEngine::go_away() {
  if (going_away_ || finished_ || closing_) return;
  going_away_ = true;
  if (handshake_completed_) nghttp3_conn_submit_shutdown_notice(h3_);
  observer_.on_output_ready();
}

std::chrono::microseconds QuicEngine::rtt() const {
  ngtcp2_conn_stat stat{};
  ngtcp2_conn_get_conn_stat(conn_, &stat);
  return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::nanoseconds(stat.smoothed_rtt));
}

}  // namespace dialback::quic
