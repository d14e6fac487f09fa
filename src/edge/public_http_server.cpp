#include "edge/public_http_server.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "core/task_group.hpp"
#include "edge/error_page.hpp"
#include "edge/idle_timeout_stream.hpp"
#include "edge/public_stream.hpp"
#include "edge/request_head_reader.hpp"
#include "edge/upgrade_bridge.hpp"
#include "http1/body_pump.hpp"
#include "http1/header_translation.hpp"
#include "http1/upgrade.hpp"
#include "tls/alpn.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1u << 20;
const std::error_code kBodyLimitExceeded = error_code(http::error::body_limit);
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Pipelined bytes the client reader keeps at most while it watches.
constexpr std::size_t kWatchLimit = 64u << 10;

// The public connection's read side while one exchange runs (run_client_reader).
// Lives in the forwarder's frame, which joins `task` before returning.
struct ClientReader {
  ClientReader(asio::any_io_executor executor, Logger logger)
      : changed(executor), task(executor, std::move(logger), "public http client reader") {}
  bool body_done = true;        // the request body reached the tunnel (or there was none)
  bool stop_requested = false;  // the exchange ended: stop watching
  Result<void> result;          // how the body relay ended
  AsyncEvent changed;
  TaskGroup task;  // the reader coroutine, while it runs
};

// Reads the request body into the tunnel; then, unless `watch` is false
// (upgrades read the socket themselves), keeps reading the connection to
// notice a client that leaves while the response is awaited or quiet: EOF
// or an error resets the tunnel stream, so the agent aborts the local
// request at once. Bytes that arrive meanwhile are the next pipelined
// request and stay in `buffer`.
template <class Stream>
Task<void> run_client_reader(Stream* stream, beast::flat_buffer* buffer,
                             http::request_parser<http::buffer_body>* parser,
                             TunnelStream* tunnel, bool watch, ClientReader* reader) {
  if (!reader->body_done) {
    reader->result = co_await http1::pump_body_to_tunnel(*stream, *buffer, *parser, *tunnel);
    reader->body_done = true;
    reader->changed.notify();
    if (!reader->result) {
      tunnel->reset(Error::cancelled);
      watch = false;
    }
  }
  while (watch && !reader->stop_requested && buffer->size() < kWatchLimit) {
    error_code ec;
    const std::size_t n = co_await stream->async_read_some(buffer->prepare(4096), nothrow(ec));
    buffer->commit(n);
    if (ec) {
      if (!reader->stop_requested) tunnel->reset(Error::cancelled);
      break;
    }
  }
}

// Waits for the request body to end, then stops the watching.
template <class Stream>
Task<void> stop_client_reader(Stream& stream, ClientReader& reader) {
  while (!reader.body_done) co_await reader.changed.wait();
  reader.stop_requested = true;
  if (reader.task.running() > 0) {
    error_code ignored;
    lowest_socket(stream).cancel(ignored);
  }
  co_await reader.task.join();
}

// What to answer when relaying the request body failed on the client's side
// (nothing when it did not fail, or failed for an I/O reason).
std::optional<TunnelFailure> client_body_error(const Result<void>& relayed) {
  if (relayed) return std::nullopt;
  const std::error_code ec = relayed.error();
  if (ec == kBodyLimitExceeded) return describe_tunnel_failure(Error::limit_exceeded);
  if (ec.category() == kBodyLimitExceeded.category()) {  // Beast's parser, or chunk framing
    return TunnelFailure{http::status::bad_request,
                         "dialback edge: malformed request body (" + ec.message() + ")",
                         "rejected: malformed request body (" + ec.message() + ")"};
  }
  return std::nullopt;
}

template <class Stream>
Task<bool> send_page(Stream& stream, http::response<http::string_body> page) {
  error_code ec;
  co_await http::async_write(stream, page, nothrow(ec));
  co_return !ec && page.keep_alive();
}

// Lingering close: after our FIN, reads and drops what the client still sends
// (until its FIN, kLingerBytes or kLingerTime). Closing a socket with unread
// input sends RST, which can destroy the response before the client reads it
// (a rejected head, an error page sent before the body was read).
template <class Stream>
Task<void> discard_input(Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(kLingerTime);
  std::array<char, 4096> scratch;
  std::size_t total = 0;
  while (total < kLingerBytes) {
    error_code ec;
    const std::size_t n = co_await stream.async_read_some(asio::buffer(scratch), nothrow(ec));
    if (ec) break;
    total += n;
  }
  beast::get_lowest_layer(stream).expires_never();
}

// What the first bytes of a plain connection are.
enum class FirstBytes { http1, h2c, nothing };

// Reads until the bytes either are the HTTP/2 client preface or cannot be
// (usually the first byte decides), within `timeout`.
Task<FirstBytes> sniff_protocol(PlainStream& stream, beast::flat_buffer& buffer,
                                Clock::duration timeout) {
  stream.expires_after(timeout);
  for (;;) {
    const auto data = buffer.data();
    const std::string_view seen(static_cast<const char*>(data.data()),
                                std::min(data.size(), kH2Preface.size()));
    if (!seen.empty() && !kH2Preface.starts_with(seen)) break;
    if (seen.size() == kH2Preface.size()) {
      stream.expires_never();
      co_return FirstBytes::h2c;
    }
    error_code ec;
    const std::size_t n = co_await stream.async_read_some(buffer.prepare(4096), nothrow(ec));
    buffer.commit(n);
    if (ec) {
      stream.expires_never();
      co_return buffer.size() == 0 ? FirstBytes::nothing : FirstBytes::http1;
    }
  }
  stream.expires_never();
  co_return FirstBytes::http1;
}

std::string client_ip_of(const tcp::socket& socket) {
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  return ec ? std::string("unknown") : remote.address().to_string();
}

}  // namespace

PublicHttpServer::PublicHttpServer(asio::any_io_executor executor, const EdgeConfig& config,
                                   const TunnelTable& tunnels, SessionRegistry& registry,
                                   EdgeCounters& counters, asio::ssl::context* tls,
                                   Logger access_log, Logger logger)
    : executor_(executor),
      config_(config),
      tls_(tls),
      logger_(std::move(logger)),
      forwarder_(config, tunnels, registry, counters, std::move(access_log)),
      listener_(executor, "public http", logger_),
      tls_listener_(executor, "public https", logger_),
      pinned_loops_(executor, logger_, "pinned port accept loops"),
      slots_(config.public_.limits.connections_per_ip),
      connections_changed_(executor) {}

Result<tcp::endpoint> PublicHttpServer::listen(const tcp::endpoint& endpoint) {
  return listener_.listen(endpoint);
}

Result<tcp::endpoint> PublicHttpServer::listen_tls(const tcp::endpoint& endpoint) {
  if (tls_ == nullptr) return fail(Error::config_invalid);
  return tls_listener_.listen(endpoint);
}

Result<quic::udp::endpoint> PublicHttpServer::listen_h3(
    const quic::udp::endpoint& endpoint, std::unique_ptr<quic::QuicTlsCredentials> tls) {
  h3_ = std::make_unique<PublicH3Server>(executor_, PublicH3Server::settings(config_.public_),
                                         std::move(tls), forwarder_, slots_, logger_);
  auto bound = h3_->listen(endpoint);
  if (!bound) return bound;
  // RFC 7838: the same host, this UDP port, remembered for a day.
  alt_svc_ = "h3=\":" + std::to_string(bound->port()) + "\"; ma=86400";
  return bound;
}

Task<void> PublicHttpServer::accept_loop() {
  return listener_.accept_loop([this](tcp::socket socket) { return serve_plain(std::move(socket)); });
}

Task<void> PublicHttpServer::tls_accept_loop() {
  return tls_listener_.accept_loop(
      [this](tcp::socket socket) { return serve_tls(std::move(socket)); });
}

Result<tcp::endpoint> PublicHttpServer::open_pinned_port(const tcp::endpoint& endpoint,
                                                         PinnedRoute route) {
  if (stopping_) return fail(Error::draining);
  auto& port = pinned_ports_.emplace_back(executor_, std::move(route), logger_);
  auto bound = port.listener.listen(endpoint);
  if (!bound) {
    pinned_ports_.pop_back();
    return bound;
  }
  port.endpoint = *bound;
  port.accepting = true;
  pinned_loops_.spawn(port.listener.accept_loop([this, &port](tcp::socket socket) {
    return serve_plain(std::move(socket), &port);
  }),
                      [this, &port] {
                        port.accepting = false;
                        connections_changed_.notify();
                      });
  return bound;
}

Task<void> PublicHttpServer::close_pinned_port(tcp::endpoint endpoint) {
  const auto it = std::find_if(pinned_ports_.begin(), pinned_ports_.end(),
                               [&](const PinnedPort& port) { return port.endpoint == endpoint; });
  if (it == pinned_ports_.end()) co_return;
  it->listener.stop();
  error_code ignored;
  for (auto& connection : connections_) {
    if (connection.port == &*it) connection.socket->close(ignored);
  }
  while (it->accepting) co_await connections_changed_.wait();
  co_await it->listener.join();  // every connection's serve() returned
  pinned_ports_.erase(it);
}

void PublicHttpServer::stop() {
  stopping_ = true;
  listener_.stop();
  tls_listener_.stop();
  for (auto& port : pinned_ports_) port.listener.stop();
  const auto deadline = Clock::now() + config_.edge.drain_timeout;
  error_code ec;
  if (h3_) h3_->stop(deadline);
  for (auto& connection : connections_) {
    if (connection.h2 != nullptr) {
      connection.h2->shut_down(deadline);
    } else if (!connection.busy) {
      connection.socket->close(ec);
    }
  }
}

Task<void> PublicHttpServer::wait_idle() {
  while (!connections_.empty()) co_await connections_changed_.wait();
  if (h3_) co_await h3_->close();
  // A connection accepted just before stop() starts its serve() later.
  co_await listener_.join();
  co_await tls_listener_.join();
  co_await pinned_loops_.join();
  for (auto& port : pinned_ports_) co_await port.listener.join();
}

PublicHttpServer::ConnectionRef PublicHttpServer::track(tcp::socket& socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  return connections_.insert(connections_.end(), Connection{&socket});
}

void PublicHttpServer::untrack(ConnectionRef connection) {
  connections_.erase(connection);
  connections_changed_.notify();
}

Task<void> PublicHttpServer::serve_plain(tcp::socket socket, const PinnedPort* pinned) {
  PublicPeer peer = forwarder_.peer(client_ip_of(socket));
  if (pinned != nullptr) peer.pinned = pinned->route;
  PlainStream stream(std::move(socket));
  auto self = track(stream.socket());
  self->port = pinned;
  if (!slots_.take(peer.source)) {
    // Over public.limits.connections_per_ip: 429, then close.
    ++forwarder_.counters().requests_rate_limited;
    const std::string request_id = forwarder_.next_request_id();
    forwarder_.log_rejected(request_id, peer.ip, 429, "public.limits.connections_per_ip");
    stream.expires_after(config_.public_.header_timeout);
    co_await send_page(
        stream, error_page(http::status::too_many_requests, request_id,
                           "dialback edge: too many connections from this address", false, 1));
    stream.close();
    untrack(self);
    co_return;
  }
  beast::flat_buffer buffer;
  const auto first = co_await sniff_protocol(stream, buffer, config_.public_.header_timeout);
  if (first == FirstBytes::h2c && !stopping_) {
    std::string initial = beast::buffers_to_string(buffer.data());
    auto io = std::make_unique<SocketByteStream<tcp::socket>>(stream.release_socket());
    self->socket = &io->stream();
    co_await serve_h2(std::move(io), *self, peer, "http", std::move(initial));
  } else if (first == FirstBytes::http1 && !stopping_) {
    co_await serve_http1(stream, buffer, *self, peer, "http");
  }
  stream.close();
  untrack(self);
  slots_.release(peer.source);
}

Task<void> PublicHttpServer::serve_tls(tcp::socket socket) {
  const PublicPeer peer = forwarder_.peer(client_ip_of(socket));
  if (!slots_.take(peer.source)) {
    // Over public.limits.connections_per_ip: closed before the TLS handshake
    // (answering 429 would first cost the handshake the cap protects).
    ++forwarder_.counters().requests_rate_limited;
    forwarder_.log_rejected(forwarder_.next_request_id(), peer.ip, 429,
                            "public.limits.connections_per_ip (closed before TLS)");
    co_return;
  }
  TlsStream stream(PlainStream(std::move(socket)), *tls_);
  auto self = track(lowest_socket(stream));
  error_code ec;
  beast::get_lowest_layer(stream).expires_after(config_.public_.header_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server, nothrow(ec));
  beast::get_lowest_layer(stream).expires_never();
  if (ec) {
    ++forwarder_.counters().tls_handshakes_failed;
    logger_->debug("public TLS handshake from {} failed: {}", peer.ip, ec.message());
  } else if (!stopping_ && negotiated_alpn(stream.native_handle()) == kAlpnH2) {
    auto io = std::make_unique<SocketByteStream<TlsStream>>(std::move(stream));
    self->socket = &lowest_socket(io->stream());
    co_await serve_h2(std::move(io), *self, peer, "https", {});
    untrack(self);  // `stream` was moved from: the session closed the socket
    slots_.release(peer.source);
    co_return;
  } else if (!stopping_) {
    beast::flat_buffer buffer;
    co_await serve_http1(stream, buffer, *self, peer, "https");
  }
  lowest_socket(stream).close(ec);
  untrack(self);
  slots_.release(peer.source);
}

Task<void> PublicHttpServer::serve_h2(std::unique_ptr<ByteStream> io, Connection& self,
                                      PublicPeer peer, std::string scheme, std::string initial) {
  std::string alt_svc = scheme == "https" ? alt_svc_ : std::string();
  PublicH2Session session(std::move(io), std::move(initial), forwarder_, std::move(peer),
                          std::move(scheme), std::move(alt_svc), logger_);
  self.h2 = &session;
  co_await session.run();
  self.h2 = nullptr;
}

template <class Stream>
Task<void> PublicHttpServer::serve_http1(Stream& stream, beast::flat_buffer& buffer,
                                         Connection& self, const PublicPeer& peer,
                                         const char* scheme) {
  const http1::RequestLimits limits{config_.public_.max_header_bytes,
                                    config_.public_.max_header_fields,
                                    config_.public_.max_body_bytes};
  bool first_request = true;
  bool linger = false;  // input may hold unread bytes when we close
  Deadline head_deadline(executor_, [&stream] {
    error_code ignored;
    lowest_socket(stream).cancel(ignored);
  });
  while (!stopping_) {
    http::request_parser<http::buffer_body> parser;
    const HeadReadOptions options{limits, config_.public_.idle_timeout,
                                  config_.public_.header_timeout, first_request};
    first_request = false;
    HeadRead head = co_await read_request_head(stream, buffer, parser, head_deadline, options);
    if (head.outcome == HeadRead::Outcome::closed) break;
    if (head.outcome == HeadRead::Outcome::not_http) {
      ++forwarder_.counters().requests_rejected;
      forwarder_.log_rejected(forwarder_.next_request_id(), peer.ip, 0,
                              "not HTTP/1.x: closed without an answer");
      linger = true;
      break;
    }
    if (head.outcome == HeadRead::Outcome::rejected) {
      ++forwarder_.counters().requests_rejected;
      const std::string request_id = forwarder_.next_request_id();
      forwarder_.log_rejected(request_id, peer.ip, static_cast<int>(head.rejection.status),
                              head.rejection.reason);
      auto page = error_page(head.rejection.status, request_id,
                             "dialback edge: " + head.rejection.reason, false);
      beast::get_lowest_layer(stream).expires_after(config_.public_.header_timeout);
      co_await send_page(stream, std::move(page));
      beast::get_lowest_layer(stream).expires_never();
      linger = true;
      break;
    }
    self.busy = true;
    const bool keep_going = co_await forward(stream, buffer, parser, peer, scheme);
    self.busy = false;
    if (!keep_going) {
      linger = true;
      break;
    }
  }
  error_code ec;
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream).expires_after(kLingerTime);
    co_await stream.async_shutdown(nothrow(ec));  // close_notify
    beast::get_lowest_layer(stream).expires_never();
  }
  lowest_socket(stream).shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !stopping_) co_await discard_input(stream);
}

template <class Stream>
Task<bool> PublicHttpServer::forward(Stream& stream, beast::flat_buffer& buffer,
                                     http::request_parser<http::buffer_body>& parser,
                                     const PublicPeer& peer, const char* scheme) {
  auto& request = parser.get();
  auto& counters = forwarder_.counters();
  ++counters.requests;
  RequestHead forwarded = http1::tunnel_request_from(request);
  const std::string request_id =
      forwarder_.add_forwarding(forwarded, peer, scheme, forwarder_.next_request_id());
  // Taken before an upgrade turns the method into CONNECT.
  const AccessEntry entry{request_id, peer.ip, forwarded.method, forwarded.authority,
                          forwarded.path};
  const bool has_body =
      request.chunked() || (parser.content_length() && *parser.content_length() > 0);
  // An error page before the body was read leaves the connection out of sync: close it.
  const bool keep_alive = request.keep_alive() && !stopping_;
  const bool page_keep_alive = keep_alive && !has_body;
  // WebSocket: the tunnel carries an extended CONNECT, its stream stays open (upgrade_bridge.hpp).
  std::optional<std::string> upgrade;
  if (!has_body) upgrade = http1::requested_upgrade(request);
  if (upgrade) forwarded = http1::extended_connect(std::move(forwarded), *upgrade);
  const bool end_stream = !has_body && !upgrade;

  auto opened = co_await forwarder_.open(forwarded, end_stream, peer);
  if (!opened) {
    ForwardRefusal refusal = std::move(opened.error());
    forwarder_.log(entry, static_cast<int>(refusal.status), 0, refusal.via);
    co_return co_await send_page(stream, error_page(refusal.status, request_id,
                                                    std::move(refusal.message), page_keep_alive,
                                                    refusal.retry_after));
  }
  // No progress either way for stream_idle_timeout: the stream is reset (504
  // before the response head, a closed connection after it).
  std::unique_ptr<TunnelStream> tunnel_stream = std::make_unique<IdleTimeoutStream>(
      std::move(opened->stream), executor_, config_.public_.stream_idle_timeout,
      config_.public_.first_byte_timeout, [&stream](bool response_started) {
        error_code ignored;
        if (response_started) lowest_socket(stream).close(ignored);
      });
  const std::string via = std::move(opened->via);

  ClientReader reader(executor_, logger_);
  const bool watch = !upgrade;
  if (has_body || watch) {
    reader.body_done = !has_body;
    // However the reader ends, the body is no longer on its way.
    reader.task.spawn(
        run_client_reader(&stream, &buffer, &parser, tunnel_stream.get(), watch, &reader),
        [&reader] {
          reader.body_done = true;
          reader.changed.notify();
        });
  }

  const auto response_deadline = Clock::now() + config_.public_.request_timeout;
  auto response_head = co_await tunnel_stream->read_response(response_deadline);
  // 1xx heads (100 Continue, 103 Early Hints) go out as interim responses;
  // HTTP/1.0 clients never see them (RFC 9110 §15.2).
  while (response_head && response_head->status < 200 && response_head->status != 101) {
    if (request.version() >= 11) {
      http::response<http::empty_body> interim;
      interim.version(11);
      http1::apply_response_head(*response_head, interim.base());
      error_code interim_ec;
      co_await http::async_write(stream, interim, nothrow(interim_ec));
    }
    response_head = co_await tunnel_stream->read_response(response_deadline);
  }
  if (!response_head) {
    ++counters.requests_failed;
    tunnel_stream->reset(Error::cancelled);
    // The upload failed and reset the stream: the client's fault, so a 4xx
    // (a chunked body over public.max_body_bytes, or a body the HTTP/1.1
    // parser rejects: bad chunk sizes or framing, framing fields in the trailer).
    const TunnelFailure failure =
        client_body_error(reader.result).value_or(describe_tunnel_failure(response_head.error()));
    forwarder_.log(entry, static_cast<int>(failure.status), 0, via + " error=" + failure.reason);
    const bool upload_pending = !reader.body_done;
    error_code ignored;
    auto page = error_page(failure.status, request_id, failure.page,
                           keep_alive && !upload_pending && reader.result.has_value());
    bool keep = co_await send_page(stream, std::move(page));
    if (!reader.body_done) lowest_socket(stream).close(ignored);
    co_await stop_client_reader(stream, reader);
    co_return keep;
  }

  if (upgrade && http1::upgrade_accepted(*response_head)) {
    ResponseHead accepted = std::move(*response_head);
    std::string protocol = *upgrade;
    auto bridged = co_await bridge_upgrade(stream, buffer, *tunnel_stream, std::move(accepted),
                                           std::move(protocol));
    if (!bridged.switched) ++counters.requests_failed;
    std::string outcome = via + " upgrade=" + *upgrade;
    if (bridged.relay.error) outcome += " error=" + bridged.relay.error.message();
    forwarder_.log(entry, 101, bridged.relay.to_stream + bridged.relay.to_socket, outcome);
    co_return false;
  }
  // Upgrade declined: a plain response follows and the CONNECT's request side ends here.
  if (upgrade) tunnel_stream->end_body({});

  http::response<http::buffer_body> response;
  response.version(request.version());
  http1::apply_response_head(*response_head, response.base());
  if (!alt_svc_.empty() && std::string_view(scheme) == "https" &&
      response.find(http::field::alt_svc) == response.end()) {
    response.set(http::field::alt_svc, alt_svc_);
  }
  const bool no_body = http1::response_has_no_body(entry.method, response_head->status);
  bool close_after = !keep_alive;
  if (!no_body && !response.has_content_length()) {
    if (request.version() >= 11) {
      response.chunked(true);
    } else {
      close_after = true;
    }
  }
  response.keep_alive(!close_after);
  response.body().data = nullptr;
  response.body().more = !no_body;
  http::response_serializer<http::buffer_body> serializer{response};
  error_code ec;
  // A head whose first body bytes are already here leaves with them in one
  // write (the pump's first write carries the head); otherwise it goes now,
  // so a streamed response (server-sent events) starts at once.
  if (no_body || response.chunked() || !tunnel_stream->body_ready()) {
    co_await http::async_write_header(stream, serializer, nothrow(ec));
  }
  std::uint64_t relayed = 0;
  bool ok = !ec;
  std::error_code pumped_error;
  if (ok && !no_body) {
    auto pumped = co_await http1::pump_tunnel_to_body(stream, response, serializer, *tunnel_stream);
    ok = pumped.has_value();
    if (ok) relayed = *pumped;
    if (!ok) pumped_error = pumped.error();
  }
  std::string outcome = via;
  if (!ok) {
    ++counters.requests_failed;
    outcome += " error=" + relay_failure_reason(ec ? ec : std::error_code(pumped_error));
    tunnel_stream->reset(Error::cancelled);
    if (!reader.body_done) lowest_socket(stream).close(ec);
  }
  co_await stop_client_reader(stream, reader);
  forwarder_.log(entry, response_head->status, relayed, outcome);
  co_return ok && !close_after && reader.result.has_value();
}

}  // namespace dialback::edge
