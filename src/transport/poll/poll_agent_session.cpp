#include "transport/poll/poll_agent_session.hpp"

#include <algorithm>

#include "core/watchdog.hpp"
#include "transport/poll/poll_wire.hpp"
#include "transport/tls_dial.hpp"

namespace dialback::poll {
namespace {

using Clock = std::chrono::steady_clock;

// No request of a pump got through for this long: the session ends.
constexpr auto kUnreachable = std::chrono::seconds(60);
constexpr auto kNextTimeout = kNextWait + std::chrono::seconds(20);
constexpr auto kSendTimeout = std::chrono::seconds(30);
constexpr auto kCloseTimeout = std::chrono::seconds(3);
constexpr auto kFlushTimeout = std::chrono::seconds(5);

}  // namespace

struct PollAgentSession::Connection {
  std::optional<DialedTls> dialed;  // open, or none
  beast::flat_buffer buffer;
  Clock::time_point
      failing_since{};  // first failure of the current run; {} when the last request passed
  int failures = 0;
};

PollAgentSession::PollAgentSession(std::unique_ptr<Session> inner, std::shared_ptr<PollPipe> pipe,
                                   PollRoute route)
    : inner_(std::move(inner)),
      pipe_(std::move(pipe)),
      route_(std::move(route)),
      pumps_(route_.executor, route_.logger, "poll pumps") {}

PollAgentSession::~PollAgentSession() { connections_.close_all(); }

Task<std::error_code> PollAgentSession::run() {
  for (int i = 0; i < route_.requests.next_requests; ++i) pumps_.spawn(poll_loop());
  for (int i = 0; i < route_.requests.send_requests; ++i) pumps_.spawn(send_loop());
  const std::error_code reason = co_await inner_->run();
  // After an orderly end (the agent drained) its last bytes (responses,
  // GOAWAY) still go out; then the edge is told the session is over, so
  // that it ends it now rather than when the agent's PINGs stop.
  co_await pipe_->wait_flushed(Clock::now() + kFlushTimeout);
  pipe_->close(make_error_code(Error::session_closed));
  connections_.close_all();
  co_await pumps_.join();
  if (!edge_ended_) co_await send_close();
  co_return reason;
}

Task<bool> PollAgentSession::connect(Connection& connection) {
  if (connection.dialed) co_return true;
  const ProxyUrl* proxy = route_.proxy ? &*route_.proxy : nullptr;
  auto dialed = co_await dial_tls(route_.executor, *route_.tls, route_.edge, proxy,
                                  AlpnSet::h2_transport_client, &connections_, route_.logger);
  if (!dialed) co_return false;
  dialed->watchdog.reset();  // each request arms its own
  connection.dialed = std::move(*dialed);
  connection.buffer.clear();
  co_return true;
}

void PollAgentSession::edge_forgot_session() {
  route_.logger->info("poll session {}: the edge no longer knows it",
                      inner_->identity().session_id);
  edge_ended_ = true;
  pipe_->close(make_error_code(Error::session_closed));
}

Task<std::optional<http::response<http::string_body>>> PollAgentSession::exchange(
    Connection& connection, http::request<http::string_body>& request,
    std::chrono::seconds timeout) {
  const bool connected = co_await connect(connection);
  if (!connected) co_return std::nullopt;
  TlsStream& tls = *connection.dialed->tls;
  tcp::socket& socket = tls.next_layer();
  Watchdog watchdog(route_.executor, timeout, [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  request.set(http::field::host, route_.edge.tls_name());
  request.set(kHeaderSession, route_.token);
  request.set("Dialback-Tunnel", route_.tunnel);
  request.keep_alive(true);
  request.prepare_payload();
  error_code ec;
  co_await http::async_write(tls, request, nothrow(ec));
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBatch + 64 * 1024);
  if (!ec) co_await http::async_read(tls, connection.buffer, parser, nothrow(ec));
  if (ec) {
    if (!pipe_->closed()) {
      route_.logger->debug("poll request to {} failed: {}", connection.dialed->where,
                           watchdog.fired() ? "timed out" : ec.message());
    }
    connection.dialed.reset();
    co_return std::nullopt;
  }
  auto response = parser.release();
  if (!response.keep_alive()) connection.dialed.reset();
  connection.failing_since = {};
  connection.failures = 0;
  co_return response;
}

Task<void> PollAgentSession::pause_after_failure(Connection& connection) {
  const auto now = Clock::now();
  if (connection.failing_since == Clock::time_point{}) connection.failing_since = now;
  if (now - connection.failing_since >= kUnreachable) {
    route_.logger->warn("poll session {}: no request reached the edge for {} s; ending it",
                        inner_->identity().session_id, kUnreachable.count());
    pipe_->close(make_error_code(Error::timeout));
    co_return;
  }
  const auto delay = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(100 << std::min(connection.failures, 5)), std::chrono::seconds(2));
  ++connection.failures;
  asio::steady_timer timer(route_.executor, delay);
  error_code ignored;
  co_await timer.async_wait(nothrow(ignored));
}

Task<void> PollAgentSession::poll_loop() {
  Connection connection;
  while (!pipe_->closed()) {
    http::request<http::string_body> request{http::verb::get, kNextPath, 11};
    request.set(kHeaderAck, std::to_string(pipe_->received_through()));
    auto response = co_await exchange(connection, request, kNextTimeout);
    if (pipe_->closed()) break;
    if (!response) {
      co_await pause_after_failure(connection);
      continue;
    }
    switch (response->result()) {
      case http::status::ok: {
        const auto seq = parse_seq((*response)[kHeaderSeq]);
        if (!seq || *seq == 0) {
          route_.logger->warn("poll session {}: the edge sent a batch without a number",
                              inner_->identity().session_id);
          pipe_->close(make_error_code(Error::protocol_error));
          break;
        }
        auto received = co_await pipe_->receive(*seq, std::move(response->body()));
        if (!received && received.error() == Error::protocol_error) {
          route_.logger->warn("poll session {}: batch {} is too far past a missing one",
                              inner_->identity().session_id, *seq);
          pipe_->close(received.error());
        }
        break;
      }
      case http::status::no_content: break;  // the wait ended without bytes
      case http::status::not_found: edge_forgot_session(); break;
      default:
        route_.logger->warn("poll session {}: next answered {}", inner_->identity().session_id,
                            response->result_int());
        co_await pause_after_failure(connection);
    }
  }
}

Task<void> PollAgentSession::send_loop() {
  Connection connection;
  // Connected ahead of the first batch: no handshake delays a response, and
  // the connection reaches the edge process that holds the session even if
  // another one takes over its address later (a rolling restart).
  co_await connect(connection);
  for (;;) {
    auto batch = co_await pipe_->take(Clock::now() + std::chrono::hours(24), 0, Clock::now());
    if (!batch) {
      if (pipe_->closed()) co_return;
      continue;
    }
    // The same batch until the edge has it: it drops a repeated one.
    for (;;) {
      http::request<http::string_body> request{http::verb::post, kSendPath, 11};
      request.set(kHeaderSeq, std::to_string(batch->seq));
      request.set(http::field::content_type, kContentType);
      request.body() = batch->bytes;
      auto response = co_await exchange(connection, request, kSendTimeout);
      if (pipe_->closed()) co_return;
      if (response && response->result() == http::status::no_content) {
        pipe_->acknowledge_one(batch->seq);
        break;
      }
      if (response && response->result() == http::status::not_found) {
        edge_forgot_session();
        co_return;
      }
      if (response && response->result() == http::status::bad_request) {
        route_.logger->warn("poll session {}: the edge refused batch {}: {}",
                            inner_->identity().session_id, batch->seq, response->body());
        pipe_->close(make_error_code(Error::protocol_error));
        co_return;
      }
      co_await pause_after_failure(connection);
    }
  }
}

Task<void> PollAgentSession::send_close() {
  Connection connection;
  http::request<http::string_body> request{http::verb::post, kClosePath, 11};
  co_await exchange(connection, request, kCloseTimeout);
}

}  // namespace dialback::poll
