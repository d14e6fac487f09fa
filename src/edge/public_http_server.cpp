#include "edge/public_http_server.hpp"

#include <openssl/rand.h>

#include <array>

#include "edge/error_page.hpp"
#include "edge/idle_timeout_stream.hpp"
#include "edge/request_head_reader.hpp"
#include "edge/upgrade_bridge.hpp"
#include "http1/body_pump.hpp"
#include "http1/header_translation.hpp"
#include "http1/upgrade.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1u << 20;
const std::error_code kBodyLimitExceeded = error_code(http::error::body_limit);

// State shared between a request's forwarder and its upload coroutine, which
// lives in the forwarder's frame: the forwarder waits for `done` before returning.
struct Upload {
  explicit Upload(asio::any_io_executor executor) : finished(std::move(executor)) {}
  bool done = true;
  Result<void> result;
  AsyncEvent finished;
};

Task<void> run_upload(beast::tcp_stream* stream, beast::flat_buffer* buffer,
                      http::request_parser<http::buffer_body>* parser, TunnelStream* tunnel,
                      Upload* upload) {
  upload->result = co_await http1::pump_body_to_tunnel(*stream, *buffer, *parser, *tunnel);
  if (!upload->result) tunnel->reset(Error::cancelled);
  upload->done = true;
  upload->finished.notify();
}

Task<void> wait_upload(Upload& upload) {
  while (!upload.done) co_await upload.finished.wait();
}

Task<bool> send_page(beast::tcp_stream& stream, http::response<http::string_body> page) {
  error_code ec;
  co_await http::async_write(stream, page, nothrow(ec));
  co_return !ec && page.keep_alive();
}

// Lingering close: after our FIN, reads and drops what the client still sends
// (until its FIN, kLingerBytes or kLingerTime). Closing a socket with unread
// input sends RST, which can destroy the response before the client reads it
// (a rejected head, an error page sent before the body was read).
Task<void> discard_input(beast::tcp_stream& stream) {
  stream.expires_after(kLingerTime);
  std::array<char, 4096> scratch;
  std::size_t total = 0;
  while (total < kLingerBytes) {
    error_code ec;
    const std::size_t n = co_await stream.async_read_some(asio::buffer(scratch), nothrow(ec));
    if (ec) break;
    total += n;
  }
  stream.expires_never();
}

}  // namespace

PublicHttpServer::PublicHttpServer(asio::any_io_executor executor, const EdgeConfig& config,
                                   const TunnelTable& tunnels, SessionRegistry& registry,
                                   EdgeCounters& counters, Logger access_log, Logger logger)
    : executor_(executor),
      config_(config),
      tunnels_(tunnels),
      registry_(registry),
      counters_(counters),
      access_log_(std::move(access_log)),
      logger_(std::move(logger)),
      listener_(executor, "public http", logger_),
      connections_changed_(executor) {
  unsigned char random[6];
  RAND_bytes(random, sizeof random);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char byte : random) {
    request_id_prefix_ += kHex[byte >> 4];
    request_id_prefix_ += kHex[byte & 15];
  }
}

std::string PublicHttpServer::next_request_id() {
  return request_id_prefix_ + "-" + std::to_string(++request_counter_);
}

Result<tcp::endpoint> PublicHttpServer::listen(const tcp::endpoint& endpoint) {
  return listener_.listen(endpoint);
}

Task<void> PublicHttpServer::accept_loop() {
  return listener_.accept_loop([this](tcp::socket socket) { return serve(std::move(socket)); });
}

void PublicHttpServer::stop() {
  stopping_ = true;
  listener_.stop();
  error_code ec;
  for (auto& connection : connections_) {
    if (!connection.busy) connection.stream->socket().close(ec);
  }
}

Task<void> PublicHttpServer::wait_idle() {
  while (!connections_.empty()) co_await connections_changed_.wait();
}

Task<void> PublicHttpServer::serve(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const auto remote = socket.remote_endpoint(ec);
  const std::string client_ip = ec ? std::string("unknown") : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  auto self = connections_.insert(connections_.end(), Connection{&stream, false});
  beast::flat_buffer buffer;
  const http1::RequestLimits limits{config_.public_.max_header_bytes,
                                    config_.public_.max_header_fields,
                                    config_.public_.max_body_bytes};
  bool first_request = true;
  bool linger = false;  // input may hold unread bytes when we close
  while (!stopping_) {
    http::request_parser<http::buffer_body> parser;
    const HeadReadOptions options{limits, config_.public_.idle_timeout,
                                  config_.public_.header_timeout, first_request};
    first_request = false;
    HeadRead head = co_await read_request_head(stream, buffer, parser, options);
    if (head.outcome == HeadRead::Outcome::closed) break;
    if (head.outcome == HeadRead::Outcome::rejected) {
      ++counters_.requests_rejected;
      const std::string request_id = next_request_id();
      access_log_->info("{} {} \"-\" {} 0B rejected: {}", request_id, client_ip,
                        static_cast<unsigned>(head.rejection.status), head.rejection.reason);
      auto page = error_page(head.rejection.status, request_id,
                             "dialback edge: " + head.rejection.reason, false);
      stream.expires_after(config_.public_.header_timeout);  // bounds the write
      co_await send_page(stream, std::move(page));
      linger = true;
      break;
    }
    self->busy = true;
    const bool keep_going = co_await forward(stream, buffer, parser, client_ip);
    self->busy = false;
    if (!keep_going) {
      linger = true;
      break;
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !stopping_) co_await discard_input(stream);
  stream.close();
  connections_.erase(self);
  connections_changed_.notify();
}

Task<bool> PublicHttpServer::forward(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     http::request_parser<http::buffer_body>& parser,
                                     const std::string& client_ip) {
  const auto started = Clock::now();
  auto& request = parser.get();
  ++counters_.requests;
  std::string request_id;
  const RequestHead head =
      http1::tunnel_request_from(
          request, {client_ip, "http", next_request_id(), &traceparents_}, request_id);
  const bool has_body =
      request.chunked() || (parser.content_length() && *parser.content_length() > 0);
  // An error page before the body was read leaves the connection out of sync: close it.
  const bool keep_alive = request.keep_alive() && !stopping_;
  const bool page_keep_alive = keep_alive && !has_body;
  // WebSocket: the tunnel carries an extended CONNECT, its stream stays open (upgrade_bridge.hpp).
  std::optional<std::string> upgrade;
  if (!has_body) upgrade = http1::requested_upgrade(request);
  std::optional<RequestHead> connect_head;
  if (upgrade) connect_head = http1::extended_connect(head, *upgrade);
  const RequestHead& tunnel_head = connect_head ? *connect_head : head;
  const bool end_stream = !has_body && !upgrade;

  auto log_access = [&](int status, std::uint64_t bytes, std::string_view via) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() /
        1000.0;
    access_log_->info("{} {} \"{} {}{}\" {} {}B {:.1f}ms {}", request_id, client_ip, head.method,
                      head.authority, head.path, status, bytes, ms, via);
  };

  const auto tunnel = tunnels_.route(head.authority);
  if (!tunnel) {
    ++counters_.requests_no_route;
    log_access(404, 0, "no-route");
    co_return co_await send_page(
        stream, error_page(http::status::not_found, request_id,
                           "dialback edge: no tunnel serves host '" + head.authority + "'",
                           page_keep_alive));
  }
  const std::string& tunnel_name = tunnels_[*tunnel].name;
  TunnelSession* session = registry_.pick(*tunnel);
  Result<std::unique_ptr<TunnelStream>> opened = fail(Error::no_session);
  if (session != nullptr) opened = session->open_stream(tunnel_head, end_stream);
  if (!opened && session != nullptr) {  // the session just began draining: try another once
    session = registry_.pick(*tunnel);
    if (session != nullptr) opened = session->open_stream(tunnel_head, end_stream);
  }
  if (!opened) {
    ++counters_.requests_no_session;
    log_access(503, 0, "tunnel=" + tunnel_name + " no-session");
    co_return co_await send_page(
        stream, error_page(http::status::service_unavailable, request_id,
                           "dialback edge: tunnel '" + tunnel_name + "' has no connected agent",
                           page_keep_alive, 5));
  }
  // No progress either way for stream_idle_timeout: the stream is reset (504
  // before the response head, a closed connection after it).
  std::unique_ptr<TunnelStream> tunnel_stream = std::make_unique<IdleTimeoutStream>(
      std::move(*opened), executor_, config_.public_.stream_idle_timeout,
      [&stream](bool response_started) {
        error_code ignored;
        if (response_started) stream.socket().close(ignored);
      });
  const std::string via = "tunnel=" + tunnel_name + " session=" + session->identity().session_id;

  Upload upload(executor_);
  if (has_body) {
    upload.done = false;
    asio::co_spawn(executor_,
                   run_upload(&stream, &buffer, &parser, tunnel_stream.get(), &upload),
                   asio::detached);
  }

  auto response_head = co_await tunnel_stream->read_response(Clock::now() +
                                                             config_.public_.request_timeout);
  if (!response_head) {
    ++counters_.requests_failed;
    const bool timed_out = response_head.error() == Error::timeout;
    tunnel_stream->reset(Error::cancelled);
    // A chunked body over public.max_body_bytes failed the upload, which reset the stream.
    const bool too_large = !upload.result && upload.result.error() == kBodyLimitExceeded;
    auto status = timed_out ? http::status::gateway_timeout : http::status::bad_gateway;
    if (too_large) status = http::status::payload_too_large;
    log_access(static_cast<int>(status), 0, via + " error=" + response_head.error().message());
    const bool upload_pending = !upload.done;
    error_code ignored;
    // Page built outside the co_await expression: g++ 12 destroys a string
    // temporary made in a ?: branch of such an expression twice (double free).
    std::string message = timed_out ? "dialback edge: the agent did not answer in time"
                                     : "dialback edge: the tunnel to the agent failed (" +
                                           response_head.error().message() + ")";
    if (too_large) message = "dialback edge: request body larger than public.max_body_bytes";
    auto page = error_page(status, request_id, std::move(message),
                           keep_alive && !upload_pending && upload.result.has_value());
    bool keep = co_await send_page(stream, std::move(page));
    if (!upload.done) stream.socket().close(ignored);
    co_await wait_upload(upload);
    co_return keep;
  }

  if (upgrade && http1::upgrade_accepted(*response_head)) {
    ResponseHead accepted = std::move(*response_head);
    std::string protocol = *upgrade;
    auto bridged = co_await bridge_upgrade(stream, buffer, *tunnel_stream, std::move(accepted),
                                           std::move(protocol));
    if (!bridged.switched) ++counters_.requests_failed;
    std::string outcome = via + " upgrade=" + *upgrade;
    if (bridged.relay.error) outcome += " error=" + bridged.relay.error.message();
    log_access(101, bridged.relay.to_stream + bridged.relay.to_socket, outcome);
    co_return false;
  }
  // Upgrade declined: a plain response follows and the CONNECT's request side ends here.
  if (upgrade) tunnel_stream->end_body({});

  http::response<http::buffer_body> response;
  response.version(request.version());
  http1::apply_response_head(*response_head, response.base());
  const bool no_body = http1::response_has_no_body(head.method, response_head->status);
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
  co_await http::async_write_header(stream, serializer, nothrow(ec));
  std::uint64_t relayed = 0;
  bool ok = !ec;
  if (ok && !no_body) {
    auto pumped = co_await http1::pump_tunnel_to_body(stream, response, serializer, *tunnel_stream);
    ok = pumped.has_value();
    if (ok) relayed = *pumped;
  }
  if (!ok) {
    ++counters_.requests_failed;
    tunnel_stream->reset(Error::cancelled);
    if (!upload.done) stream.socket().close(ec);
  }
  co_await wait_upload(upload);
  log_access(response_head->status, relayed, ok ? via : via + " error=relay-failed");
  co_return ok && !close_after && upload.result.has_value();
}

}  // namespace dialback::edge
