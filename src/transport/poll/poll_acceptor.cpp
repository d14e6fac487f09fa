#include "transport/poll/poll_acceptor.hpp"

#include <nlohmann/json.hpp>

#include "auth/token.hpp"
#include "core/watchdog.hpp"
#include "transport/h2/h2_connection.hpp"
#include "transport/h2/tunnel_options.hpp"
#include "transport/poll/poll_wire.hpp"
#include "transport/registration_exchange.hpp"
#include "tunnel/registration_request.hpp"
#include "tunnel/registration_response.hpp"

namespace dialback::poll {
namespace {

using Clock = std::chrono::steady_clock;
using Request = PollAcceptor::Request;
using Response = PollAcceptor::Response;

// A poll connection idle between requests is closed after this.
constexpr auto kIdleConnection = std::chrono::seconds(10);
constexpr std::size_t kMaxHead = 16 * 1024;
// A registration that is not its connection's first request gets this long.
constexpr auto kRegistrationTime = std::chrono::seconds(10);

Response json_response(unsigned status, std::string_view code, std::string_view message) {
  Response response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = nlohmann::json{{"error", code}, {"message", message}}.dump();
  response.prepare_payload();
  return response;
}

Response empty_response(http::status status) {
  Response response{status, 11};
  response.set(http::field::cache_control, "no-store");
  response.prepare_payload();
  return response;
}

// The seq or ack header: absent is `fallback`, malformed is nullopt.
std::optional<std::uint64_t> number_header(const Request& request, std::string_view name,
                                           std::optional<std::uint64_t> fallback) {
  if (request.count(name) == 0) return fallback;
  if (request.count(name) > 1) return std::nullopt;
  return parse_seq(request[name]);
}

}  // namespace

SessionAcceptor::Claim PollAcceptor::claims(std::string_view /*alpn*/,
                                            std::string_view first_bytes) const {
  for (std::string_view method : {"POST ", "GET "}) {
    const std::string line = std::string(method) + std::string(kPathPrefix);
    const std::size_t n = std::min(first_bytes.size(), line.size());
    if (first_bytes.substr(0, n) != std::string_view(line).substr(0, n)) continue;
    return n < line.size() ? Claim::need_more_bytes : Claim::yes;
  }
  return Claim::no;
}

std::shared_ptr<PollPipe> PollAcceptor::find(const Request& request, Response& refusal) {
  if (request.count(kHeaderSession) != 1) {
    refusal = json_response(401, "unauthorized", "Dialback-Poll-Session is required");
    return nullptr;
  }
  const auto it = sessions_.find(std::string(request[kHeaderSession]));
  std::shared_ptr<PollPipe> pipe = it == sessions_.end() ? nullptr : it->second.pipe.lock();
  // A token of another tunnel is answered as an unknown one: no oracle.
  const auto tunnel = request.find("Dialback-Tunnel");
  if (pipe && tunnel != request.end() && tunnel->value() != it->second.tunnel) pipe = nullptr;
  if (pipe == nullptr || pipe->closed()) {
    if (it != sessions_.end() && it->second.pipe.expired()) sessions_.erase(it);
    refusal = json_response(404, "unknown_session", "no such poll session (ended or expired)");
    return nullptr;
  }
  return pipe;
}

Task<AcceptedSession> PollAcceptor::accept(AgentConnection connection, Admission& admission) {
  TlsStream& tls = connection.tls;
  beast::flat_buffer buffer;
  const auto initial = asio::buffer(connection.initial);
  buffer.commit(asio::buffer_copy(buffer.prepare(initial.size()), initial));
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHead);
    parser.body_limit(kMaxBatch);
    error_code ec;
    {
      const auto wait =
          first ? connection.deadline - Clock::now() : Clock::duration(kIdleConnection);
      Watchdog idle(tls.get_executor(), wait, [&tls] {
        error_code ignored;
        tls.next_layer().close(ignored);
      });
      co_await http::async_read(tls, buffer, parser, nothrow(ec));
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      const bool body = ec == http::error::body_limit;
      auto refusal = json_response(body ? 413 : 431, "too_large",
                                   body ? "a batch is at most 1 MiB" : "request head over 16 KiB");
      admission.refused_request(connection, name(),
                                body ? "413: a batch over 1 MiB" : "431: a head over 16 KiB");
      refusal.keep_alive(false);
      co_await http::async_write(tls, refusal, nothrow(ec));
      co_return AcceptedSession{};
    }
    if (ec) {
      if (first) logger_->info("poll agent {} sent no request: {}", connection.peer, ec.message());
      co_return AcceptedSession{};
    }
    Request request = parser.release();
    const std::string_view path = request.target().substr(0, request.target().find('?'));
    if (path == kRegisterPath) {
      // Also later on a connection: a proxy in front reuses its connections.
      // The registration is bounded like one on a fresh connection.
      if (!first) connection.deadline = Clock::now() + kRegistrationTime;
      co_return co_await register_session(connection, admission, request);
    }
    first = false;
    bool keep_alive = request.keep_alive();
    Response response;
    std::shared_ptr<PollPipe> pipe;
    if (!path.starts_with(kPathPrefix)) {
      // A proxy in front of the edge reuses its connections for any agent
      // request; the h2 registration's upgrade cannot work through one.
      response = json_response(400, "bad_request",
                               "not a poll request; an h2 registration needs its Upgrade: ptth "
                               "to arrive (behind an HTTP/1.1-only proxy, use transport poll)");
      keep_alive = false;
    } else if (path != kNextPath && path != kSendPath && path != kClosePath) {
      response = json_response(404, "not_found", "no such poll endpoint");
    } else if ((path == kNextPath) != (request.method() == http::verb::get) ||
               (path != kNextPath && request.method() != http::verb::post)) {
      response = json_response(405, "method_not_allowed", "next is GET; send and close are POST");
    } else if (pipe = find(request, response); pipe == nullptr) {
      // `response` is the refusal.
    } else if (path == kNextPath) {
      auto answer = co_await next(*pipe, request, connection, keep_alive);
      if (!answer) {  // the batch is written
        if (!keep_alive) co_return AcceptedSession{};
        continue;
      }
      response = std::move(*answer);
    } else if (path == kSendPath) {
      response = co_await send(*pipe, request, connection.peer);
    } else {
      logger_->info("poll session closed by the agent {}", connection.peer);
      pipe->close();
      response = empty_response(http::status::no_content);
    }
    if (response.result_int() >= 400) {
      admission.refused_request(connection, name(),
                                fmt::format("{} {} answered {}: {}", request.method_string(), path,
                                            response.result_int(), response.body()));
    }
    response.keep_alive(keep_alive);
    co_await http::async_write(tls, response, nothrow(ec));
    if (ec || !keep_alive) co_return AcceptedSession{};
  }
}

Task<AcceptedSession> PollAcceptor::register_session(AgentConnection& connection,
                                                     Admission& admission, const Request& request) {
  TlsStream& tls = connection.tls;
  ParsedClaim claim = [&]() -> ParsedClaim {
    if (request.method() != http::verb::post) {
      return tl::unexpected(
          RegistrationRejection::bad_request("poll registration method must be POST"));
    }
    auto fields = parse_registration_fields(request);
    if (!fields) return tl::unexpected(fields.error());
    return claim_from_registration(*fields, request[http::field::authorization], connection);
  }();
  auto grant = co_await admission.admit(connection, name(), claim);
  error_code ec;
  if (!grant) {
    auto response = build_registration_reject(grant.error());
    co_await http::async_write(tls, response, nothrow(ec));
    co_await tls.async_shutdown(nothrow(ec));
    co_return AcceptedSession{};
  }
  const std::string token = generate_token();
  if (token.empty()) {  // no randomness: no session that a guess could take
    logger_->error("poll registration of {} failed: no random bytes for its token",
                   connection.peer);
    auto response = json_response(503, "unavailable", "the edge cannot make a session token");
    response.keep_alive(false);
    co_await http::async_write(tls, response, nothrow(ec));
    co_return AcceptedSession{};
  }
  auto pipe = std::make_shared<PollPipe>(tls.get_executor(), PollPipe::Limits{});
  std::erase_if(sessions_, [](const auto& entry) { return entry.second.pipe.expired(); });
  sessions_[token] = Entry{pipe, grant->tunnel};

  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.set("Dialback-Edge", grant->edge_id);
  if (!grant->routes.empty()) response.set("Dialback-Routes", grant->routes);
  const nlohmann::json body = {{"session", token},
                               {"edge", grant->edge_id},
                               {"routes", grant->routes},
                               {"wait_seconds", kNextWait.count()},
                               {"max_batch", kMaxBatch}};
  response.body() = body.dump();
  response.keep_alive(false);
  response.prepare_payload();
  co_await http::async_write(tls, response, nothrow(ec));
  if (ec) co_return AcceptedSession{};
  co_await tls.async_shutdown(nothrow(ec));

  AcceptedSession accepted;
  accepted.tunnel = grant->tunnel;
  accepted.leases_only = grant->leases_only;
  accepted.session = std::make_unique<h2::H2Connection>(
      std::make_unique<PollPipeStream>(std::move(pipe), tls.get_executor()),
      h2::tunnel_options(h2::Role::client, h2::PrefaceMode::standard, settings_),
      std::move(claim->identity), logger_, std::string());
  co_return accepted;
}

Task<std::optional<Response>> PollAcceptor::next(PollPipe& pipe, const Request& request,
                                                 AgentConnection& connection, bool& keep_alive) {
  const auto ack = number_header(request, kHeaderAck, 0);
  if (!ack) co_return json_response(400, "bad_request", "Dialback-Poll-Ack must be a number");
  pipe.acknowledge(*ack);
  const auto asked_at = Clock::now();
  auto batch = co_await pipe.take(asked_at + kNextWait, *ack, asked_at);
  if (!batch) {
    if (pipe.closed()) {
      co_return json_response(404, "unknown_session", "the poll session ended");
    }
    co_return empty_response(http::status::no_content);
  }
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, kContentType);
  response.set(http::field::cache_control, "no-store");
  response.set(kHeaderSeq, std::to_string(batch->seq));
  response.body() = std::move(batch->bytes);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  error_code ec;
  co_await http::async_write(connection.tls, response, nothrow(ec));
  if (ec) {
    pipe.failed(batch->seq);
    keep_alive = false;
  } else {
    pipe.delivered(batch->seq);
  }
  co_return std::nullopt;
}

Task<Response> PollAcceptor::send(PollPipe& pipe, const Request& request, const std::string& peer) {
  const auto seq = number_header(request, kHeaderSeq, std::nullopt);
  if (!seq || *seq == 0) {
    co_return json_response(400, "bad_request", "Dialback-Poll-Seq must be a number from 1");
  }
  auto received = co_await pipe.receive(*seq, request.body());
  if (!received) {
    if (received.error() == Error::protocol_error) {
      logger_->warn("poll session of agent {} ended: batch {} is too far past a missing one", peer,
                    *seq);
      pipe.close(make_error_code(Error::protocol_error));
      co_return json_response(400, "bad_request", "batch out of order: the session ended");
    }
    co_return json_response(404, "unknown_session", "the poll session ended");
  }
  co_return empty_response(http::status::no_content);
}

}  // namespace dialback::poll
