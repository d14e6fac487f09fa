#include "transport/h2/h2_engine.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "core/error.hpp"
#include "transport/h2/h2_headers.hpp"

namespace dialback::h2 {

namespace {

constexpr std::string_view kPreface = NGHTTP2_CLIENT_MAGIC;
// Freed nghttp2 blocks kept for reuse: what about a hundred streams in flight
// churn through. An idle session gives them back (submit_ping). None under
// AddressSanitizer, so that it still sees every use of freed nghttp2 memory.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kPoolCacheBytes = 0;
#else
constexpr std::size_t kPoolCacheBytes = 256u << 10;
#endif
// Closed stream states kept for reuse (each at most H2StreamState::kKeptSendBuffer
// plus ~4 KiB of kept buffers).
constexpr std::size_t kMaxSpareStates = 64;
// The opaque data of the PING that follows a server's GOAWAY notice.
constexpr std::uint8_t kGoAwayPing[8] = {'g', 'o', 'a', 'w', 'a', 'y', '?', '!'};

H2StreamState* stream_of(nghttp2_session* session, std::int32_t id) {
  return static_cast<H2StreamState*>(nghttp2_session_get_stream_user_data(session, id));
}

}  // namespace

// nghttp2 callbacks: thin, noexcept, update state and wake waiters.
struct EngineCallbacks {
  static H2Engine& engine(void* user_data) { return *static_cast<H2Engine*>(user_data); }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                              void* user_data) noexcept {
    auto& self = engine(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (self.role_ == Role::server && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      auto stream = self.new_stream_state();
      stream->id = frame->hd.stream_id;
      stream->engine = &self;
      nghttp2_session_set_stream_user_data(session, stream->id, stream.get());
      self.add_stream(std::move(stream));
    }
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* user_data) noexcept {
    auto* stream = stream_of(session, frame->hd.stream_id);
    if (stream == nullptr || stream->head_oversized) return 0;
    const auto& limits = engine(user_data).settings_;
    stream->receiving_size += namelen + valuelen + 32;
    if (namelen == 0 || name[0] != ':') ++stream->receiving_fields;
    if (stream->receiving_size > limits.max_header_list_size ||
        (limits.max_header_fields > 0 && stream->receiving_fields > limits.max_header_fields)) {
      stream->head_oversized = true;  // keep the pseudo-headers only, for the log
      std::erase_if(stream->receiving,
                    [](const HeaderField& f) { return f.name.empty() || f.name[0] != ':'; });
      return 0;
    }
    stream->receiving.push_back(HeaderField{
        std::string(reinterpret_cast<const char*>(name), namelen),
        std::string(reinterpret_cast<const char*>(value), valuelen)});
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame,
                           void* user_data) noexcept {
    auto& self = engine(user_data);
    switch (frame->hd.type) {
      case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) return 0;
        if (self.notice_sent_ &&
            std::memcmp(frame->ping.opaque_data, kGoAwayPing, sizeof kGoAwayPing) == 0) {
          self.confirm_go_away();
        } else {
          self.observer_.on_ping_ack();
        }
        return 0;
      case NGHTTP2_GOAWAY:
        self.going_away_ = true;
        self.peer_goaway_ = true;
        self.observer_.on_goaway(frame->goaway.error_code);
        self.confirm_go_away();  // a peer that goes away opens no more streams
        return 0;
      case NGHTTP2_RST_STREAM: {
        auto* reset = stream_of(session, frame->hd.stream_id);
        return reset != nullptr ? self.on_peer_reset(*reset) : 0;
      }
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA:
        break;
      default:
        return 0;
    }
    auto* stream = stream_of(session, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // Before on_request, so that a handler sees whether a request body follows.
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) stream->body_ended = true;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (self.role_ == Role::client && stream->head_oversized) {
        // A response head or trailers over our limit: refused, never relayed.
        take_header_block(*stream);
        stream->error = Error::header_limit;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_CANCEL);
        self.notify_output();
        stream->wake();
        return 0;
      }
      HeaderList fields = take_header_block(*stream);
      if (!stream->head_received) {
        const bool informational = self.role_ == Role::client && !fields.empty() &&
                                   fields.front().name == ":status" &&
                                   fields.front().value.starts_with('1');
        if (informational) {  // 1xx: read before the final head (read_response)
          stream->informational.emplace_back(std::move(fields));
          stream->wake();
          return 0;
        }
        stream->head = std::move(fields);
        stream->head_received = true;
        if (self.role_ == Role::server) {
          auto it = self.find_stream(stream->id);
          if (it != self.streams_.end()) self.observer_.on_request(*it);
        }
      } else {
        stream->trailers = std::move(fields);
      }
    }
    stream->wake();
    return 0;
  }

  // The header block just received, in a list of its own size (one
  // allocation); `receiving` keeps its capacity for the next block.
  static HeaderList take_header_block(H2StreamState& stream) {
    HeaderList fields;
    fields.reserve(stream.receiving.size());
    std::move(stream.receiving.begin(), stream.receiving.end(), std::back_inserter(fields));
    stream.receiving.clear();
    stream.receiving_size = 0;
    stream.receiving_fields = 0;
    return fields;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t len, void*) noexcept {
    auto* stream = stream_of(session, stream_id);
    if (stream == nullptr) {
      nghttp2_session_consume_connection(session, len);
      return 0;
    }
    stream->body.emplace_back(reinterpret_cast<const char*>(data), len);
    stream->body_queued += len;
    stream->wake();
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* user_data) noexcept {
    engine(user_data).close_stream(stream_id, error_code);
    return 0;
  }

  static int on_error(nghttp2_session*, int, const char* msg, size_t len,
                      void* user_data) noexcept {
    engine(user_data).last_error_.assign(msg, len);
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                           size_t length, uint32_t* data_flags, nghttp2_data_source*,
                           void* user_data) noexcept {
    // Not source->ptr: terminate() drops the engine's reference, so the
    // state may be gone; it also clears the stream user data. Fail the stream.
    auto* stream = stream_of(session, stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::size_t n = std::min(length, stream->out_queued());
    if (n == 0 && !stream->out_ended) {
      stream->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    std::memcpy(buf, stream->out.data() + stream->out_pos, n);
    stream->out_pos += n;
    if (stream->out_pos == stream->out.size()) {
      stream->out.clear();
      stream->out_pos = 0;
    }
    if (stream->out_queued() == 0 && stream->out_ended) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!stream->out_trailers.empty()) {
        auto& fields = engine(user_data).fields_;
        plain_fields(stream->out_trailers, fields);
        if (nghttp2_submit_trailer(session, stream_id, fields.data(), fields.size()) == 0) {
          *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        }
      }
    }
    stream->wake();  // room for the writer again
    return static_cast<ssize_t>(n);
  }
};

H2Engine::H2Engine(Role role, PrefaceMode preface, const H2Settings& settings,
                   EngineObserver& observer)
    : role_(role),
      preface_(preface),
      settings_(settings),
      observer_(observer),
      pool_(kPoolCacheBytes),
      peer_resets_(settings.peer_resets, std::chrono::steady_clock::now()) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                          &EngineCallbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &EngineCallbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &EngineCallbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            &EngineCallbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         &EngineCallbacks::on_stream_close);
  nghttp2_session_callbacks_set_error_callback2(callbacks, &EngineCallbacks::on_error);

  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Closed streams are kept for RFC 7540 priorities, which nobody here uses,
  // and to answer late frames with STREAM_CLOSED: only toward untrusted peers.
  if (!settings.strict) nghttp2_option_set_no_closed_streams(option, 1);
  nghttp2_option_set_max_send_header_block_length(option, 256u << 10);
  // nghttp2's own reset limit answers INTERNAL_ERROR; peer_resets replaces it.
  nghttp2_option_set_stream_reset_rate_limit(option, UINT64_MAX, UINT64_MAX);
  const bool reversed = preface == PrefaceMode::reversed;
  if (role == Role::server) {
    if (reversed) nghttp2_option_set_no_recv_client_magic(option, 1);
    nghttp2_session_server_new3(&session_, callbacks, this, option, pool_.mem());
    magic_to_send_ = reversed;
    if (!reversed) scan_.skip = kPreface.size();  // the client's preface precedes its frames
  } else {
    nghttp2_session_client_new3(&session_, callbacks, this, option, pool_.mem());
    if (reversed) {
      magic_to_skip_ = kPreface.size();
      magic_to_drop_ = kPreface.size();
    }
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_size},
  };
  if (role == Role::server) {
    entries.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams});
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
  } else {
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(settings.connection_window));
}

H2Engine::~H2Engine() {
  terminate(make_error_code(Error::session_closed));
  nghttp2_session_del(session_);
}

Result<void> H2Engine::feed(std::span<const std::uint8_t> bytes,
                            std::chrono::steady_clock::time_point now) {
  if (bytes.empty()) return {};  // also: memcmp must not see a null data()
  if (reset_flood_) return fail(Error::protocol_error);
  last_error_.clear();
  now_ = now;
  if (magic_to_skip_ > 0) {
    const std::size_t offset = kPreface.size() - magic_to_skip_;
    const std::size_t n = std::min(magic_to_skip_, bytes.size());
    if (std::memcmp(bytes.data(), kPreface.data() + offset, n) != 0) {
      last_error_ = "peer did not send the HTTP/2 connection preface";
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      notify_output();
      return fail(Error::protocol_error);
    }
    magic_to_skip_ -= n;
    bytes = bytes.subspan(n);
  }
  if (bytes.empty()) return {};
  if (settings_.strict && role_ == Role::server) return feed_checking_stream_ids(bytes);
  return mem_recv(bytes);
}

Result<void> H2Engine::mem_recv(std::span<const std::uint8_t> bytes) {
  // nghttp2 reports most connection errors not through the return value but
  // by queueing a terminating GOAWAY. A client sees that as "requests no
  // longer allowed" while the GOAWAY is still unsent and none was received.
  const bool could_request = nghttp2_session_check_request_allowed(session_) != 0;
  const ssize_t rv = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  if (rv < 0) {
    if (reset_flood_) {
      last_error_ = "the peer reset too many streams (rapid reset): GOAWAY ENHANCE_YOUR_CALM";
    } else {
      last_error_ = nghttp2_strerror(static_cast<int>(rv));
    }
    return fail(Error::protocol_error);
  }
  if (wants_write()) notify_output();
  if (could_request && !peer_goaway_ && nghttp2_session_check_request_allowed(session_) == 0 &&
      nghttp2_session_want_write(session_) != 0) {
    if (last_error_.empty()) last_error_ = "connection error: GOAWAY queued";
    return fail(Error::protocol_error);
  }
  return {};
}

std::size_t H2Engine::drain_output(std::string& out, std::size_t limit) {
  const std::size_t start = out.size();
  if (magic_to_send_) {
    out.append(kPreface);
    magic_to_send_ = false;
  }
  while (out.size() - start < limit) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) {
      if (n < 0) last_error_ = nghttp2_strerror(static_cast<int>(n));
      break;
    }
    std::size_t skip = std::min<std::size_t>(magic_to_drop_, static_cast<std::size_t>(n));
    magic_to_drop_ -= skip;
    out.append(reinterpret_cast<const char*>(data) + skip, static_cast<std::size_t>(n) - skip);
  }
  return out.size() - start;
}

bool H2Engine::wants_write() const {
  return magic_to_send_ || nghttp2_session_want_write(session_) != 0;
}

bool H2Engine::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void H2Engine::install_provider(nghttp2_data_provider& provider, H2StreamState& stream) {
  provider.source.ptr = &stream;
  provider.read_callback = &EngineCallbacks::read_body;
  stream.has_provider = true;
}

Result<std::shared_ptr<H2StreamState>> H2Engine::open_stream(const RequestHead& head,
                                                             bool end_stream) {
  if (role_ != Role::client || going_away_) return fail(Error::stream_refused);
  auto stream = new_stream_state();
  stream->engine = this;
  request_fields(head, fields_);
  nghttp2_data_provider provider{};
  if (!end_stream) install_provider(provider, *stream);
  const int32_t id = nghttp2_submit_request(session_, nullptr, fields_.data(), fields_.size(),
                                            end_stream ? nullptr : &provider, stream.get());
  if (id < 0) {
    last_error_ = nghttp2_strerror(id);
    return fail(id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? Error::stream_refused
                                                          : Error::protocol_error);
  }
  stream->id = id;
  stream->out_ended = end_stream;
  add_stream(stream);
  notify_output();
  return stream;
}

Result<void> H2Engine::respond(H2StreamState& stream, const ResponseHead& head, bool end_stream) {
  if (stream.engine != this) return fail(Error::session_closed);
  std::string status;
  response_fields(head, status, fields_);
  nghttp2_data_provider provider{};
  if (!end_stream) install_provider(provider, stream);
  stream.out_ended = end_stream;
  const int rv = nghttp2_submit_response(session_, stream.id, fields_.data(), fields_.size(),
                                         end_stream ? nullptr : &provider);
  if (rv != 0) {
    last_error_ = nghttp2_strerror(rv);
    return fail(Error::protocol_error);
  }
  notify_output();
  return {};
}

Result<void> H2Engine::respond_informational(H2StreamState& stream, const ResponseHead& head) {
  if (stream.engine != this) return fail(Error::session_closed);
  if (head.status < 100 || head.status > 199 || head.status == 101) {
    return fail(Error::protocol_error);
  }
  std::string status;
  response_fields(head, status, fields_);
  const int32_t rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream.id, nullptr,
                                            fields_.data(), fields_.size(), nullptr);
  if (rv < 0) {
    last_error_ = nghttp2_strerror(rv);
    return fail(Error::protocol_error);
  }
  notify_output();
  return {};
}

Result<void> H2Engine::write_body(H2StreamState& stream, std::string_view data) {
  if (stream.engine != this) return fail(stream.error ? stream.error : Error::session_closed);
  if (!stream.has_provider || stream.out_ended) return fail(Error::protocol_error);
  if (stream.out_pos > 0 && stream.out_pos >= stream.out.size() / 2) {
    stream.out.erase(0, stream.out_pos);
    stream.out_pos = 0;
  }
  stream.out.append(data);
  if (stream.deferred) {
    stream.deferred = false;
    nghttp2_session_resume_data(session_, stream.id);
  }
  notify_output();
  return {};
}

Result<void> H2Engine::end_body(H2StreamState& stream, HeaderList trailers) {
  if (stream.engine != this) return fail(stream.error ? stream.error : Error::session_closed);
  if (!stream.has_provider) return {};  // the head carried END_STREAM already
  if (stream.out_ended) return fail(Error::protocol_error);
  stream.out_ended = true;
  stream.out_trailers = std::move(trailers);
  if (stream.deferred) {
    stream.deferred = false;
    nghttp2_session_resume_data(session_, stream.id);
  }
  notify_output();
  return {};
}

void H2Engine::consume(H2StreamState& stream, std::size_t bytes) {
  stream.body_queued -= std::min(bytes, stream.body_queued);
  if (stream.engine != this) return;
  nghttp2_session_consume(session_, stream.id, bytes);
  if (wants_write()) notify_output();
}

void H2Engine::reset(H2StreamState& stream, std::uint32_t h2_error_code) {
  if (stream.engine != this || stream.closed) return;
  if (!stream.error) stream.error = Error::cancelled;  // ended by this side, not the peer
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, h2_error_code);
  notify_output();
}

int H2Engine::on_peer_reset(H2StreamState& stream) {
  stream.reset_received = true;
  // Only resets of streams whose response is still incomplete count: the
  // flood is the work started for requests the peer abandons at once.
  if (role_ != Role::server || stream.out_ended) return 0;
  if (peer_resets_.take(now_)) return 0;
  reset_flood_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  notify_output();
  return NGHTTP2_ERR_CALLBACK_FAILURE;  // read nothing more of this peer
}

void H2Engine::submit_ping() {
  // The driver pings after a silence: an idle session keeps no spare memory.
  if (streams_.empty()) {
    pool_.trim();
    spare_.clear();
  }
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
  notify_output();
}

void H2Engine::go_away() {
  if (going_away_) return;
  going_away_ = true;
  if (role_ == Role::server) {
    nghttp2_submit_shutdown_notice(session_);
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kGoAwayPing);
    notice_sent_ = true;
  } else {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
    confirm_go_away();
  }
  notify_output();
}

void H2Engine::confirm_go_away() {
  if (go_away_confirmed_) return;
  go_away_confirmed_ = true;
  observer_.on_go_away_confirmed();
}

void H2Engine::finish_go_away() {
  if (!notice_sent_ || !go_away_confirmed_ || final_goaway_sent_ || peer_goaway_) return;
  final_goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  notify_output();
}

void H2Engine::terminate(std::error_code reason) {
  going_away_ = true;
  spare_.clear();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& stream : streams) {
    stream->engine = nullptr;
    stream->closed = true;
    if (!stream->error) stream->error = reason;
    nghttp2_session_set_stream_user_data(session_, stream->id, nullptr);
    stream->wake();
  }
}

std::shared_ptr<H2StreamState> H2Engine::new_stream_state() {
  // Newest first: the most recently closed states are the likeliest to be free.
  for (std::size_t i = spare_.size(); i-- > 0;) {
    if (spare_[i].use_count() != 1) continue;  // a handle still reads it
    auto state = std::move(spare_[i]);
    spare_[i] = std::move(spare_.back());
    spare_.pop_back();
    state->reuse();
    return state;
  }
  return std::make_shared<H2StreamState>();
}

void H2Engine::add_stream(std::shared_ptr<H2StreamState> stream) {
  // Stream ids only grow (RFC 9113 §5.1.1): this is an append.
  auto at = std::upper_bound(streams_.begin(), streams_.end(), stream->id,
                             [](std::int32_t id, const auto& s) { return id < s->id; });
  streams_.insert(at, std::move(stream));
}

std::vector<std::shared_ptr<H2StreamState>>::iterator H2Engine::find_stream(std::int32_t id) {
  auto it = std::lower_bound(streams_.begin(), streams_.end(), id,
                             [](const auto& s, std::int32_t wanted) { return s->id < wanted; });
  return it != streams_.end() && (*it)->id == id ? it : streams_.end();
}

void H2Engine::close_stream(std::int32_t id, std::uint32_t error_code) {
  auto it = find_stream(id);
  if (it == streams_.end()) return;
  auto stream = std::move(*it);
  streams_.erase(it);
  stream->closed = true;
  stream->engine = nullptr;
  // Who ended it: an error set on this side (reset(), a refused head) stays.
  if (!stream->error) {
    if (error_code == NGHTTP2_REFUSED_STREAM) {
      stream->error = Error::stream_refused;
    } else if (stream->reset_received || (error_code == NGHTTP2_NO_ERROR && !stream->body_ended)) {
      stream->error = Error::stream_reset;
    } else if (error_code != NGHTTP2_NO_ERROR) {
      stream->error = Error::stream_invalid;  // nghttp2 reset it: the peer broke HTTP/2
    }
  }
  // Body bytes nobody will read still count against the connection window.
  if (stream->body_queued > 0) {
    nghttp2_session_consume_connection(session_, stream->body_queued);
  }
  stream->wake();
  if (spare_.size() < kMaxSpareStates) spare_.push_back(std::move(stream));
  observer_.on_stream_closed();
}

}  // namespace dialback::h2
