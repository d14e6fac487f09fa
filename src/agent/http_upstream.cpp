#include "agent/http_upstream.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "agent/error_response.hpp"
#include "agent/local_connect.hpp"
#include "agent/upgrade_forwarder.hpp"
#include "core/task_group.hpp"
#include "core/watchdog.hpp"
#include "http1/body_pump.hpp"
#include "http1/header_translation.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;
// Idle keep-alive connections kept to the local service. Above the number
// of requests in flight at once, every burst would reconnect.
constexpr std::size_t kMaxIdle = 256;

struct Upload {
  Upload(asio::any_io_executor executor, Logger logger)
      : task(std::move(executor), std::move(logger), "agent upload") {}
  Result<std::uint64_t> result = 0;
  std::function<void()> on_sent;  // the whole body reached the local service
  TaskGroup task;                 // run_upload, while it runs; joined before the exchange ends
};

Task<void> run_upload(beast::tcp_stream* socket, http::request<http::buffer_body>* request,
                      http::request_serializer<http::buffer_body>* serializer,
                      IncomingStream* stream, Upload* upload) {
  upload->result = co_await http1::pump_tunnel_to_body(*socket, *request, *serializer, *stream);
  if (!upload->result) {
    error_code ignored;
    socket->socket().close(ignored);  // the local service must not take a truncated body as whole
  } else if (upload->on_sent) {
    upload->on_sent();
  }
}

// A pooled keep-alive socket the service closed meanwhile reads EOF at once;
// stray bytes mean it is out of sync. One non-blocking peek tells both.
bool still_open(tcp::socket& socket) {
  char probe;
  const ssize_t n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// `item` is listed in `list` while this object lives.
template <class T>
struct Listed {
  std::shared_ptr<std::list<T*>> list;
  typename std::list<T*>::iterator it;
  ~Listed() { list->erase(it); }
};

std::string seconds_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count() / 1000.0).substr(0, 4) + "s";
}

}  // namespace

HttpUpstream::HttpUpstream(asio::any_io_executor executor, UpstreamUrl target,
                           UpstreamTimeouts timeouts, Logger logger, std::string host_rewrite)
    : executor_(std::move(executor)),
      target_(std::move(target)),
      timeouts_(timeouts),
      logger_(std::move(logger)),
      host_rewrite_(std::move(host_rewrite)),
      local_address_(target_.host + ":" + std::to_string(target_.port)) {}

Task<Result<std::unique_ptr<HttpUpstream::Connection>>> HttpUpstream::connect() {
  auto socket = co_await connect_local(executor_, target_, timeouts_.connect);
  if (!socket) co_return fail(socket.error());
  co_return std::make_unique<Connection>(std::move(*socket));
}

void HttpUpstream::abort() {
  error_code ignored;
  for (auto* connection : *active_) connection->stream.socket().close(ignored);
  idle_.clear();
}

void HttpUpstream::release(std::unique_ptr<Connection> connection) {
  if (idle_.size() >= kMaxIdle) return;
  idle_.push_back(std::move(connection));
}

Task<void> HttpUpstream::serve_upgrade(std::unique_ptr<IncomingStream> stream) {
  const std::string& local = local_address_;
  auto connection = co_await connect();
  if (!connection) {
    logger_->warn("{} cannot connect to local service {}: {}",
                  find_header(stream->request().headers, "x-request-id").value_or("-"), local,
                  connection.error().message());
    std::string message = "dialback agent: cannot connect to the local service (" +
                          connection.error().message() + ")";
    co_await respond_error(*stream, 502, std::move(message));
    co_await await_request_end(*stream);
    co_return;
  }
  Connection& used = **connection;
  Listed<Connection> active{active_, active_->insert(active_->end(), &used)};
  UpgradeTarget target{target_.base_path, local, timeouts_.response, host_rewrite_};
  auto failure =
      co_await forward_upgrade(used.stream, used.buffer, *stream, std::move(target), logger_);
  if (failure) co_await respond_error(*stream, failure->status, std::move(failure->message));
  error_code ignored;
  used.stream.socket().close(ignored);
  co_await await_request_end(*stream);
}

Task<void> HttpUpstream::serve(std::unique_ptr<IncomingStream> stream) {
  if (stream->request().method == "CONNECT" && !stream->request().protocol.empty()) {
    co_await serve_upgrade(std::move(stream));
    co_return;
  }
  const RequestHead& head = stream->request();
  const std::string& local = local_address_;
  const std::string_view request_id = find_header(head.headers, "x-request-id").value_or("-");
  const auto started = Clock::now();

  http::request<http::buffer_body> request;
  request.version(11);
  http1::apply_request_head(head, target_.base_path, request.base());
  http1::apply_host_rewrite(head, host_rewrite_, request.base());
  const bool has_body = stream->has_body();
  if (has_body && !request.has_content_length()) request.chunked(true);
  request.keep_alive(true);
  request.body().data = nullptr;
  request.body().more = has_body;

  // A pooled connection is used when still open; otherwise a fresh one.
  std::unique_ptr<Connection> connection;
  error_code ec;
  for (int attempt = 0; attempt < 2 && !connection; ++attempt) {
    const bool pooled = !idle_.empty() && attempt == 0;
    if (pooled) {
      connection = std::move(idle_.front());
      idle_.pop_front();
    } else {
      auto fresh = co_await connect();
      if (!fresh) {
        logger_->warn("{} cannot connect to local service {}: {}", request_id, local,
                      fresh.error().message());
        co_await respond_error(*stream, 502,
                               "dialback agent: cannot connect to the local service (" +
                                   fresh.error().message() + ")");
        co_return;
      }
      connection = std::move(*fresh);
    }
    if (pooled && !still_open(connection->stream.socket())) connection.reset();
  }

  // Listed in active_ while this exchange uses the connection.
  Listed<Connection> active{active_, active_->insert(active_->end(), connection.get())};

  http::request_serializer<http::buffer_body> serializer{request};
  co_await http::async_write_header(connection->stream, serializer, nothrow(ec));
  if (ec) {
    logger_->warn("{} local service {} closed the connection: {}", request_id, local, ec.message());
    co_await respond_error(
        *stream, 502,
        "dialback agent: the local service closed the connection (" + ec.message() + ")");
    co_return;
  }
  // The edge resetting the stream (its client left) aborts the local
  // request at once, whatever this exchange is waiting for.
  tcp::socket* socket = &connection->stream.socket();
  stream->on_abort([socket] {
    error_code ignored;
    socket->close(ignored);
  });
  // The response timeout runs from the end of the request body: an upload
  // still moving is bounded by the edge's stream idle timeout instead.
  std::optional<Watchdog> response_deadline;
  bool awaiting_head = true;
  auto arm_response_deadline = [this, socket, &response_deadline, &awaiting_head] {
    if (!awaiting_head) return;  // the service answered before the body ended
    response_deadline.emplace(executor_, timeouts_.response, [socket] {
      error_code ignored;
      socket->close(ignored);
    });
  };
  Upload upload(executor_, logger_);
  if (has_body) {
    upload.on_sent = arm_response_deadline;
    upload.task.spawn(
        run_upload(&connection->stream, &request, &serializer, stream.get(), &upload));
  } else {
    arm_response_deadline();
  }

  std::optional<http::response_parser<http::buffer_body>> parsing;
  // 1xx interim responses (other than 101) go on to the edge as they come.
  for (;;) {
    parsing.emplace();
    parsing->body_limit(http1::kNoBodyLimit);
    if (head.method == "HEAD") parsing->skip(true);
    co_await http::async_read_header(connection->stream, connection->buffer, *parsing, nothrow(ec));
    const unsigned status = ec ? 0 : parsing->get().result_int();
    if (status < 100 || status >= 200 || status == 101) break;
    stream->respond_informational(http1::tunnel_response_from(parsing->get()));
  }
  auto& parser = *parsing;
  const bool timed_out = response_deadline && response_deadline->fired();
  awaiting_head = false;
  response_deadline.reset();
  if (ec) {
    logger_->warn("{} local service {} {}: {}", request_id, local,
                  timed_out ? "timed out" : "failed", ec.message());
    connection->stream.socket().close(ec);
    if (timed_out) {
      co_await respond_error(*stream, 504,
                             "dialback agent: the local service did not answer within " +
                                 seconds_text(timeouts_.response));
    } else {
      co_await respond_error(
          *stream, 502,
          "dialback agent: the local service sent no valid response (" + ec.message() + ")");
    }
    co_await upload.task.join();
    co_return;
  }

  ResponseHead response = http1::tunnel_response_from(parser.get());
  const bool end_stream =
      parser.is_done() || http1::response_has_no_body(head.method, response.status);
  bool ok = stream->respond(response, end_stream).has_value();
  if (ok && !end_stream) {
    auto pumped = co_await http1::pump_body_to_tunnel(connection->stream, connection->buffer,
                                                      parser, *stream);
    ok = pumped.has_value();
    if (!ok) stream->reset(Error::upstream_protocol);
  }
  co_await upload.task.join();
  const bool reusable =
      ok && upload.result.has_value() && parser.is_done() && parser.get().keep_alive();
  logger_->info(
      "{} \"{} {}\" {} {:.1f}ms", request_id, head.method, head.path, response.status,
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() /
          1000.0);
  stream->on_abort({});
  if (reusable) release(std::move(connection));
}

}  // namespace dialback::agent
