#include "transport/quic/quic_engine_callbacks.hpp"

#include <gnutls/crypto.h>

namespace dialback::quic {
namespace {

QuicEngine& engine_of(void* user_data) { return *static_cast<QuicEngine*>(user_data); }

void random_bytes(std::uint8_t* out, std::size_t n) { (void)gnutls_rnd(GNUTLS_RND_RANDOM, out, n); }

int status_of(const HeaderList& head) {
  for (const auto& f : head) {
    if (f.name == ":status") {
      int status = 0;
      for (char c : f.value) status = status * 10 + (c - '0');
      return status;
    }
  }
  return 0;
}

}  // namespace

// The ngtcp2 and nghttp3 callbacks, translating stream ids between the two.
struct Callbacks {
  // ngtcp2

  static int recv_stream_data(ngtcp2_conn* conn, std::uint32_t flags, std::int64_t id,
                              std::uint64_t /*offset*/, const std::uint8_t* data,
                              std::size_t length, void* user_data, void* /*stream_data*/) {
    auto& e = engine_of(user_data);
    const bool fin = (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0;
    if (e.is_registration(id)) {
      e.observer_.on_registration_data({reinterpret_cast<const char*>(data), length}, fin);
      ngtcp2_conn_extend_max_stream_offset(conn, id, length);
      ngtcp2_conn_extend_max_offset(conn, length);
      return 0;
    }
    const nghttp3_ssize consumed =
        nghttp3_conn_read_stream(e.h3_, e.translate_id(id), data, length, fin);
    if (consumed < 0) {
      ngtcp2_connection_close_error_set_application_error(
          &e.close_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(consumed)),
          nullptr, 0);
      e.close_error_set_ = true;
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    // Framing and header bytes; body bytes are given back as they are read.
    ngtcp2_conn_extend_max_stream_offset(conn, id, static_cast<std::uint64_t>(consumed));
    ngtcp2_conn_extend_max_offset(conn, static_cast<std::uint64_t>(consumed));
    return 0;
  }

  static int acked_stream_data_offset(ngtcp2_conn*, std::int64_t id, std::uint64_t /*offset*/,
                                      std::uint64_t length, void* user_data, void*) {
    auto& e = engine_of(user_data);
    if (e.is_registration(id)) return 0;
    return nghttp3_conn_add_ack_offset(e.h3_, e.translate_id(id), length) == 0
               ? 0
               : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int stream_close(ngtcp2_conn* conn, std::uint32_t flags, std::int64_t id,
                          std::uint64_t code, void* user_data, void*) {
    auto& e = engine_of(user_data);
    if ((flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) == 0) code = kH3NoError;
    if (e.is_registration(id)) return 0;
    // nghttp3 tells us through h3_stream_close when it lets the stream go:
    // at once, or later for a stream whose header block still waits for
    // QPACK encoder instructions (delayed by a loss), which it then still
    // delivers. Only a stream nghttp3 never knew is closed here.
    const int rv = nghttp3_conn_close_stream(e.h3_, e.translate_id(id), code);
    if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
      e.close_stream(id, code);
    } else if (rv != 0) {
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    // ngtcp2 does not raise the peer's stream limit on its own.
    if (ngtcp2_is_bidi_stream(id) && !ngtcp2_conn_is_local_stream(conn, id)) {
      ngtcp2_conn_extend_max_streams_bidi(conn, 1);
    }
    return 0;
  }

  // RESET_STREAM or STOP_SENDING from the peer: it gave up on the stream.
  static int peer_abandoned(QuicEngine& e, std::int64_t id) {
    if (auto* stream = e.find(id)) stream->reset_received = true;
    if (e.is_registration(id)) return 0;
    const int rv = nghttp3_conn_shutdown_stream_read(e.h3_, e.translate_id(id));
    return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int stream_reset(ngtcp2_conn*, std::int64_t id, std::uint64_t, std::uint64_t,
                          void* user_data, void*) {
    return peer_abandoned(engine_of(user_data), id);
  }

  static int stream_stop_sending(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* user_data,
                                 void*) {
    return peer_abandoned(engine_of(user_data), id);
  }

  static int extend_max_stream_data(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* user_data,
                                    void*) {
    auto& e = engine_of(user_data);
    if (e.is_registration(id)) {
      e.registration_blocked_ = false;
      return 0;
    }
    const int rv = nghttp3_conn_unblock_stream(e.h3_, e.translate_id(id));
    return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int extend_max_local_streams_bidi(ngtcp2_conn*, std::uint64_t, void* user_data) {
    engine_of(user_data).observer_.on_stream_closed();  // open_stream() may go on
    return 0;
  }

  static int extend_max_remote_streams_bidi(ngtcp2_conn*, std::uint64_t max_streams,
                                            void* user_data) {
    auto& e = engine_of(user_data);
    if (e.h3_server()) nghttp3_conn_set_max_client_streams_bidi(e.h3_, max_streams);
    return 0;
  }

  static int handshake_completed(ngtcp2_conn*, void* user_data) {
    auto& e = engine_of(user_data);
    e.handshake_completed_ = true;
    if (!e.start_http3()) return NGTCP2_ERR_CALLBACK_FAILURE;
    e.observer_.on_handshake_completed();
    return 0;
  }

  static void rand(std::uint8_t* dest, std::size_t length, const ngtcp2_rand_ctx*) {
    (void)gnutls_rnd(GNUTLS_RND_NONCE, dest, length);
  }

  static int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token,
                                   std::size_t length, void* user_data) {
    auto& e = engine_of(user_data);
    cid->datalen = length;
    random_bytes(cid->data, length);
    if (e.quic_server()) {
      if (ngtcp2_crypto_generate_stateless_reset_token(token, e.reset_secret_.data(),
                                                       e.reset_secret_.size(), cid) != 0) {
        return NGTCP2_ERR_CALLBACK_FAILURE;
      }
      e.observer_.on_connection_id(*cid, true);
    } else {
      random_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
    }
    return 0;
  }

  static int remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* user_data) {
    auto& e = engine_of(user_data);
    if (e.quic_server()) e.observer_.on_connection_id(*cid, false);
    return 0;
  }

  // nghttp3 (stream ids are nghttp3's: translate_id() gives the QUIC id back)

  static int h3_acked_stream_data(nghttp3_conn*, std::int64_t, std::uint64_t length, void*,
                                  void* stream_data) {
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) return 0;
    stream->out_acked += length;
    while (!stream->out.empty() && stream->out_given_chunk > 0 &&
           stream->out_acked >= stream->out.front().size()) {
      stream->out_acked -= stream->out.front().size();
      stream->out.pop_front();
      --stream->out_given_chunk;
    }
    return 0;
  }

  static int h3_stream_close(nghttp3_conn*, std::int64_t h3_id, std::uint64_t code, void* user_data,
                             void*) {
    auto& e = engine_of(user_data);
    e.close_stream(e.translate_id(h3_id), code);
    return 0;
  }

  static int h3_recv_data(nghttp3_conn*, std::int64_t, const std::uint8_t* data, std::size_t length,
                          void*, void* stream_data) {
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr || length == 0) return 0;
    stream->body.emplace_back(reinterpret_cast<const char*>(data), length);
    stream->body_queued += length;
    stream->wake();
    return 0;
  }

  static int h3_deferred_consume(nghttp3_conn*, std::int64_t h3_id, std::size_t consumed,
                                 void* user_data, void*) {
    auto& e = engine_of(user_data);
    ngtcp2_conn_extend_max_stream_offset(e.conn_, e.translate_id(h3_id), consumed);
    ngtcp2_conn_extend_max_offset(e.conn_, consumed);
    return 0;
  }

  static int h3_begin_headers(nghttp3_conn*, std::int64_t h3_id, void* user_data,
                              void* stream_data) {
    auto& e = engine_of(user_data);
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) {
      // The edge's streams have their state from open_stream(): none left
      // means it reset the stream, and late headers are ignored.
      if (!e.h3_server()) return 0;
      stream = e.incoming_stream(e.translate_id(h3_id)).get();
    }
    stream->receiving.clear();
    stream->receiving_size = 0;
    stream->receiving_trailers = false;
    return 0;
  }

  static int h3_begin_trailers(nghttp3_conn* conn, std::int64_t h3_id, void* user_data,
                               void* stream_data) {
    if (stream_data == nullptr) return 0;
    h3_begin_headers(conn, h3_id, user_data, stream_data);
    static_cast<H3StreamState*>(stream_data)->receiving_trailers = true;
    return 0;
  }

  static int h3_recv_header(nghttp3_conn*, std::int64_t, std::int32_t, nghttp3_rcbuf* name,
                            nghttp3_rcbuf* value, std::uint8_t, void* user_data,
                            void* stream_data) {
    auto& e = engine_of(user_data);
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) return 0;
    const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
    const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
    stream->receiving_size += n.len + v.len + 32;
    if (stream->receiving_size > e.settings_.max_header_bytes) {
      stream->head_oversized = true;
      return 0;
    }
    stream->receiving.push_back({std::string(reinterpret_cast<const char*>(n.base), n.len),
                                 std::string(reinterpret_cast<const char*>(v.base), v.len)});
    return 0;
  }

  static int h3_end_headers(nghttp3_conn*, std::int64_t h3_id, int fin, void* user_data,
                            void* stream_data) {
    auto& e = engine_of(user_data);
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) return 0;
    if (stream->receiving_trailers) {
      stream->trailers = std::move(stream->receiving);
      stream->receiving_trailers = false;
      stream->wake();
      return 0;
    }
    if (!e.h3_server()) {
      if (stream->head_oversized) {
        stream->error = Error::header_limit;
        e.reset(*stream, kH3MessageError);
        return 0;
      }
      const int status = status_of(stream->receiving);
      if (status >= 100 && status < 200 && status != 101) {
        stream->informational.emplace_back(std::move(stream->receiving));
      } else {
        stream->head = std::move(stream->receiving);
        stream->head_received = true;
        if (fin != 0) stream->body_ended = true;
      }
      stream->wake();
      return 0;
    }
    if (stream->head_received) return 0;
    stream->head = std::move(stream->receiving);
    stream->head_received = true;
    if (fin != 0) stream->body_ended = true;
    auto it = e.streams_.find(e.translate_id(h3_id));
    if (it != e.streams_.end()) e.observer_.on_request(it->second);
    return 0;
  }

  static int h3_stop_sending(nghttp3_conn*, std::int64_t h3_id, std::uint64_t code, void* user_data,
                             void*) {
    auto& e = engine_of(user_data);
    ngtcp2_conn_shutdown_stream_read(e.conn_, e.translate_id(h3_id), code);
    return 0;
  }

  static int h3_end_stream(nghttp3_conn*, std::int64_t, void*, void* stream_data) {
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) return 0;
    stream->body_ended = true;
    stream->wake();
    return 0;
  }

  static int h3_reset_stream(nghttp3_conn*, std::int64_t h3_id, std::uint64_t code, void* user_data,
                             void* stream_data) {
    auto& e = engine_of(user_data);
    // nghttp3 gives up on the stream: the peer broke HTTP/3 on it.
    if (auto* stream = static_cast<H3StreamState*>(stream_data); stream && !stream->error) {
      stream->error = Error::stream_invalid;
    }
    ngtcp2_conn_shutdown_stream_write(e.conn_, e.translate_id(h3_id), code);
    return 0;
  }

  static int h3_shutdown(nghttp3_conn*, std::int64_t, void* user_data) {
    auto& e = engine_of(user_data);
    if (!e.peer_goaway_) {
      e.peer_goaway_ = true;
      e.observer_.on_goaway();
    }
    return 0;
  }

  static nghttp3_ssize read_data(nghttp3_conn*, std::int64_t, nghttp3_vec* vec,
                                 std::size_t vec_count, std::uint32_t* flags, void*,
                                 void* stream_data) {
    auto* stream = static_cast<H3StreamState*>(stream_data);
    if (stream == nullptr) {  // reset by us: nothing more to send
      *flags |= NGHTTP3_DATA_FLAG_EOF;
      return 0;
    }
    std::size_t filled = 0;
    while (filled < vec_count && stream->out_given_chunk < stream->out.size()) {
      const std::string& chunk = stream->out[stream->out_given_chunk];
      vec[filled].base = reinterpret_cast<std::uint8_t*>(const_cast<char*>(chunk.data()));
      vec[filled].len = chunk.size();
      stream->out_unsent -= chunk.size();
      ++filled;
      ++stream->out_given_chunk;
    }
    if (filled > 0) stream->wake();  // room for the writer
    if (stream->out_ended && stream->out_given_chunk == stream->out.size()) {
      *flags |= NGHTTP3_DATA_FLAG_EOF;
      return static_cast<nghttp3_ssize>(filled);
    }
    if (filled == 0) {
      stream->deferred = true;
      return NGHTTP3_ERR_WOULDBLOCK;
    }
    return static_cast<nghttp3_ssize>(filled);
  }
};

ngtcp2_callbacks quic_callbacks(Side side) {
  ngtcp2_callbacks cb{};
  if (side == Side::agent) {
    cb.client_initial = ngtcp2_crypto_client_initial_cb;
    cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  } else {
    cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  }
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.handshake_completed = Callbacks::handshake_completed;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.recv_stream_data = Callbacks::recv_stream_data;
  cb.acked_stream_data_offset = Callbacks::acked_stream_data_offset;
  cb.stream_close = Callbacks::stream_close;
  cb.extend_max_local_streams_bidi = Callbacks::extend_max_local_streams_bidi;
  cb.rand = Callbacks::rand;
  cb.get_new_connection_id = Callbacks::get_new_connection_id;
  cb.remove_connection_id = Callbacks::remove_connection_id;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.stream_reset = Callbacks::stream_reset;
  cb.extend_max_remote_streams_bidi = Callbacks::extend_max_remote_streams_bidi;
  cb.extend_max_stream_data = Callbacks::extend_max_stream_data;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.stream_stop_sending = Callbacks::stream_stop_sending;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  return cb;
}

nghttp3_callbacks h3_callbacks() {
  nghttp3_callbacks cb{};
  cb.acked_stream_data = Callbacks::h3_acked_stream_data;
  cb.stream_close = Callbacks::h3_stream_close;
  cb.recv_data = Callbacks::h3_recv_data;
  cb.deferred_consume = Callbacks::h3_deferred_consume;
  cb.begin_headers = Callbacks::h3_begin_headers;
  cb.recv_header = Callbacks::h3_recv_header;
  cb.end_headers = Callbacks::h3_end_headers;
  cb.begin_trailers = Callbacks::h3_begin_trailers;
  cb.recv_trailer = Callbacks::h3_recv_header;
  cb.end_trailers = Callbacks::h3_end_headers;
  cb.stop_sending = Callbacks::h3_stop_sending;
  cb.end_stream = Callbacks::h3_end_stream;
  cb.reset_stream = Callbacks::h3_reset_stream;
  cb.shutdown = Callbacks::h3_shutdown;
  return cb;
}

nghttp3_data_reader body_reader() { return nghttp3_data_reader{Callbacks::read_data}; }

}  // namespace dialback::quic
