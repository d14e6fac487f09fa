#include "edge/devtunnel_server.hpp"

#include <charconv>

#include "core/ip_network.hpp"
#include "edge/devtunnel_status_page.hpp"
#include "tunnel/raw_tcp_head.hpp"
#include "tunnel/registration.hpp"

namespace dialback::edge {
namespace {

using devtunnel::DevTunnelUser;
namespace wire = devtunnel;

constexpr auto kHeadTimeout = std::chrono::seconds(10);  // the request of a refused client
constexpr auto kIdleTimeout = std::chrono::seconds(90);  // between a client's requests
constexpr auto kBodyTimeout = std::chrono::seconds(60);  // a POSTed response, whole
constexpr std::size_t kHeaderLimit = 64u << 10;
// Client connections at once; a long poll holds one per user, so this is
// far above any range of ports. Beyond it new connections are closed.
constexpr std::size_t kMaxClients = 1024;

AllocationPolicy policy_of(const DevTunnelConfig& config) {
  AllocationPolicy policy;
  policy.first_port = config.first_port;
  policy.last_port = config.last_port;
  policy.lease = std::chrono::hours(24 * 365);  // a user keeps its port until closed or evicted
  policy.evict_idle = true;                     // DevTunnel's rule when full
  policy.idle_after = config.offline_after;
  return policy;
}

std::string header(const http::request<http::string_body>& request, std::string_view name) {
  auto it = request.find(name);
  return it == request.end() ? std::string() : std::string(it->value());
}

std::chrono::system_clock::time_point wall(std::chrono::steady_clock::time_point when) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             when - std::chrono::steady_clock::now());
}

}  // namespace

DevTunnelServer::DevTunnelServer(asio::any_io_executor executor, const DevTunnelConfig& config,
                                 std::size_t tunnel, PublicHttpServer& public_http,
                                 SessionRegistry& registry, Logger logger)
    : executor_(executor),
      config_(config),
      tunnel_(tunnel),
      tunnel_name_(public_http.forwarder().tunnels()[tunnel].name),
      public_http_(public_http),
      registry_(registry),
      logger_(logger),
      listener_(executor, "devtunnel", logger),
      ports_(policy_of(config), std::random_device{}()),
      changed_(executor),
      sessions_(executor, logger, "devtunnel users") {}

Result<tcp::endpoint> DevTunnelServer::listen(const tcp::endpoint& endpoint) {
  return listener_.listen(endpoint);
}

Task<void> DevTunnelServer::accept_loop() {
  return listener_.accept_loop([this](tcp::socket socket) { return serve(std::move(socket)); });
}

void DevTunnelServer::begin_drain() {
  draining_ = true;
  for (const auto& [id, user] : users_) user.session->go_away();
}

Task<void> DevTunnelServer::stop(Clock::time_point deadline) {
  begin_drain();
  while (registering_) co_await changed_.wait();
  registering_ = true;
  // The client wire keeps serving meanwhile: what was handed out can still be answered.
  std::vector<std::shared_ptr<DevTunnelUser>> draining;
  for (const auto& [id, user] : users_) draining.push_back(user.session);
  for (const auto& session : draining) co_await session->drain(deadline);
  stopping_ = true;
  listener_.stop();
  std::vector<std::string> ids;
  for (const auto& [id, user] : users_) ids.push_back(id);
  for (const auto& id : ids) co_await end_user(id, true);
  registering_ = false;
  error_code ignored;
  for (tcp::socket* socket : clients_) socket->close(ignored);
  while (!clients_.empty()) co_await changed_.wait();
  co_await listener_.join();
  co_await sessions_.join();
}

std::size_t DevTunnelServer::waiting_requests() const {
  std::size_t total = 0;
  for (const auto& [id, user] : users_) total += user.session->waiting();
  return total;
}

DevTunnelUser* DevTunnelServer::find(const std::string& user_id) const {
  auto it = users_.find(user_id);
  return it == users_.end() ? nullptr : it->second.session.get();
}

DevTunnelServer::Response DevTunnelServer::answer(const Request& request, http::status status,
                                                  std::string body) const {
  Response response{status, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive() && !stopping_);
  response.prepare_payload();
  return response;
}

Task<void> DevTunnelServer::serve(tcp::socket socket) {
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  const std::string client = endpoint_text(remote);
  if (clients_.size() >= kMaxClients) {
    if (auto left_out = refusal_log_.admit("full", Clock::now())) {
      logger_->warn("devtunnel client {} refused: {} client connections open ({} more since "
                    "the last line)",
                    client, kMaxClients, *left_out);
    }
    co_return;
  }
  beast::tcp_stream stream(std::move(socket));
  const auto self = clients_.insert(clients_.end(), &stream.socket());
  // A client outside devtunnel.allow gets 403 to its first request (read
  // first, so that closing does not reset the answer away).
  const bool allowed = config_.allow.empty() || in_any(config_.allow, remote.address());
  beast::flat_buffer buffer;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(allowed ? config_.max_body_bytes + kHeaderLimit : kHeaderLimit);
    stream.expires_after(allowed ? kIdleTimeout : kHeadTimeout);
    co_await http::async_read_header(stream, buffer, parser, nothrow(ec));
    if (ec) break;
    stream.expires_after(kBodyTimeout);
    co_await http::async_read(stream, buffer, parser, nothrow(ec));
    if (ec == http::error::body_limit && allowed) {
      drop_oversized_answer(parser.get());
      Request probe;
      auto refused = answer(probe, http::status::payload_too_large,
                            "the response is over devtunnel.max_body_bytes\n");
      refused.keep_alive(false);
      co_await http::async_write(stream, refused, nothrow(ec));
    }
    if (ec) break;
    stream.expires_never();
    const Request request = parser.release();
    Response response;
    if (allowed) {
      response = co_await handle(request, client);
    } else {
      if (auto left_out = refusal_log_.admit(source_key(remote.address()), Clock::now())) {
        logger_->info("devtunnel client {} refused: not in devtunnel.allow ({} more since the "
                      "last line)",
                      client, *left_out);
      }
      response = answer(request, http::status::forbidden,
                        "this DevTunnel front end does not serve your address\n");
      response.keep_alive(false);
    }
    stream.expires_after(kBodyTimeout);
    co_await http::async_write(stream, response, nothrow(ec));
    if (ec || !response.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.close();
  clients_.erase(self);
  changed_.notify();
}

Task<DevTunnelServer::Response> DevTunnelServer::handle(const Request& request,
                                                        const std::string& client) {
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));
  const bool get = request.method() == http::verb::get;
  if (path == "/" && get) {
    Response response = answer(request, http::status::found, "");
    response.set(http::field::location, "/status");
    co_return response;
  }
  if (path == "/status" && get) {
    Response response = status_page();
    response.version(request.version());
    response.keep_alive(request.keep_alive() && !stopping_);
    co_return response;
  }
  const bool data = path == "/data" && (get || request.method() == http::verb::post);
  if (!data && !((path == "/register" || path == "/close") && get)) {
    co_return answer(request, http::status::not_found, "no such DevTunnel endpoint\n");
  }
  const std::string user_id = header(request, wire::kUserId);
  if (user_id.empty()) {
    co_return answer(request, http::status::bad_request,
                     "Missing " + std::string(wire::kUserId) + "\n");
  }
  if (!wire::is_valid_user_id(user_id)) {
    co_return answer(request, http::status::bad_request,
                     std::string(wire::kUserId) + " must be 1-256 printable ASCII characters\n");
  }
  if (path == "/register") co_return co_await register_user(request, user_id, client);
  if (path == "/close") co_return co_await close_user(request, user_id);
  if (request.method() == http::verb::post) co_return co_await post_response(request, user_id);
  Response response = answer(request, http::status::ok, "");
  co_return co_await poll(user_id, std::move(response));
}

Task<DevTunnelServer::Response> DevTunnelServer::register_user(const Request& request,
                                                               const std::string& user_id,
                                                               const std::string& client) {
  while (registering_) co_await changed_.wait();
  if (draining_) co_return answer(request, http::status::service_unavailable, "shutting down\n");
  registering_ = true;
  // Registering again restarts the user: what it had waiting fails, and its
  // listener is opened anew (on the same port while the lease holds).
  if (users_.count(user_id) > 0) co_await end_user(user_id, false);
  AllocationRequest ask;
  ask.port_kind = AllocationRequest::Kind::any;
  const std::string preferred = header(request, wire::kPreferredPort);
  unsigned wanted = 0;
  const auto [end, parse_ec] =
      std::from_chars(preferred.data(), preferred.data() + preferred.size(), wanted);
  if (!preferred.empty() && parse_ec == std::errc{} && end == preferred.data() + preferred.size() &&
      wanted >= config_.first_port && wanted <= config_.last_port) {
    ask.port_kind = AllocationRequest::Kind::preferred;
    ask.port = static_cast<std::uint16_t>(wanted);
  }
  auto granted = ports_.acquire(user_id, ask, Clock::now());
  Response response = answer(request, http::status::ok, "");
  response.set(wire::kUserId, user_id);
  if (granted) {
    for (const std::string& evicted : granted->evicted_nodes) {
      logger_->info("devtunnel user {} evicted (offline) to make room for {}", evicted, user_id);
      co_await end_user(evicted, false);  // its lease is already gone
    }
  }
  std::optional<tcp::endpoint> bound;
  std::string failure = "No free ports available - all connections in use\n";
  if (granted) {
    error_code ec;
    const auto address = asio::ip::make_address(config_.bind, ec);
    auto opened = public_http_.open_pinned_port(tcp::endpoint(address, granted->port),
                                                PinnedRoute{tunnel_, user_id});
    if (opened) {
      bound = *opened;
    } else {
      ports_.release(user_id);
      failure = "Error listening on port " + std::to_string(granted->port) + ": " +
                opened.error().message() + "\n";
    }
  }
  if (!bound) {
    registering_ = false;
    changed_.notify();
    logger_->warn("devtunnel user {} from {} not registered: {}", user_id, client,
                  failure.substr(0, failure.size() - 1));
    Response refused = answer(request, http::status::internal_server_error, failure);
    refused.set(wire::kUserId, user_id);
    co_return refused;
  }
  SessionIdentity identity;
  identity.tunnel = tunnel_name_;
  identity.node = user_id;
  identity.cluster = tunnel_name_;
  identity.tenant = "default";
  identity.session_id = generate_session_id();
  identity.peer_address = client;
  devtunnel::UserSettings settings;
  settings.port = bound->port();
  settings.request_timeout = config_.request_timeout;
  settings.offline_after = config_.offline_after;
  settings.queue = config_.queue;
  settings.max_body_bytes = config_.max_body_bytes;
  auto session = std::make_shared<DevTunnelUser>(executor_, std::move(identity), settings);
  users_[user_id] = User{session, *bound};
  ports_.session_started(user_id);
  sessions_.spawn(run_user(session));
  registering_ = false;
  changed_.notify();
  logger_->info("devtunnel user {} registered from {} (client version {}): port {}", user_id,
                client, header(request, wire::kClientVersion), endpoint_text(*bound));
  response.set(wire::kServerPort, std::to_string(bound->port()));
  response.body() = "server-port=" + std::to_string(bound->port()) + "\n";
  response.prepare_payload();
  co_return response;
}

Task<void> DevTunnelServer::run_user(std::shared_ptr<DevTunnelUser> session) {
  registry_.add(tunnel_name_, session.get());
  co_await session->run();
  registry_.remove(tunnel_name_, session.get());
}

Task<void> DevTunnelServer::end_user(const std::string& user_id, bool release) {
  auto it = users_.find(user_id);
  if (it == users_.end()) co_return;
  User user = std::move(it->second);
  users_.erase(it);
  user.session->close(Error::session_closed);
  if (release) ports_.release(user_id);
  co_await public_http_.close_pinned_port(user.port);
  changed_.notify();
}

Task<DevTunnelServer::Response> DevTunnelServer::close_user(const Request& request,
                                                            const std::string& user_id) {
  while (registering_) co_await changed_.wait();
  auto it = users_.find(user_id);
  if (it == users_.end()) {
    co_return answer(request, http::status::not_found, "server-port-closed=not-found\n");
  }
  registering_ = true;
  const std::uint16_t port = it->second.port.port();
  co_await end_user(user_id, true);
  registering_ = false;
  changed_.notify();
  logger_->info("devtunnel user {} closed: port {} released", user_id, port);
  co_return answer(request, http::status::ok, "server-port-closed=" + std::to_string(port) + "\n");
}

Task<DevTunnelServer::Response> DevTunnelServer::poll(const std::string& user_id,
                                                      Response response) {
  DevTunnelUser* found = find(user_id);
  if (found == nullptr) {
    response.result(http::status::not_found);
    response.set(wire::kStatus, "Tunnel user not found - please restart the tunnel client");
    response.body() = "not registered\n";
    response.prepare_payload();
    co_return response;
  }
  auto user = found->shared_from_this();  // the user may end while this waits
  ports_.touch(user_id, Clock::now());
  response.set(wire::kUserId, user_id);
  response.set(wire::kServerPort, std::to_string(user->settings().port));
  auto exchange = co_await user->wait_next(Clock::now() + config_.poll_timeout);
  if (!user->closed()) ports_.touch(user_id, Clock::now());
  if (!exchange) {
    response.result(http::status::no_content);
    response.body().clear();
    response.prepare_payload();
    co_return response;
  }
  response.set(wire::kRequestId, exchange->id);
  response.set(wire::kRequest, wire::request_line(exchange->head));
  response.set(http::field::content_type, "application/octet-stream");
  response.body() = wire::raw_request(exchange->head, std::move(exchange->body));
  response.prepare_payload();
  co_return response;
}

Task<DevTunnelServer::Response> DevTunnelServer::post_response(const Request& request,
                                                               const std::string& user_id) {
  DevTunnelUser* user = find(user_id);
  if (user == nullptr) {
    Response response = answer(request, http::status::not_found, "not registered\n");
    response.set(wire::kStatus, "Tunnel user not found - please restart the tunnel client");
    co_return response;
  }
  user->seen();
  ports_.touch(user_id, Clock::now());
  const std::string id = header(request, wire::kRequestId);
  if (id.empty()) {
    co_return answer(request, http::status::bad_request,
                     "Missing " + std::string(wire::kRequestId) + "\n");
  }
  auto exchange = user->delivered(id);
  if (!exchange) {
    // Its public caller left or it timed out: nobody waits for this answer.
    // The client's loop goes on as after any answer.
    Response response = answer(request, http::status::ok, "");
    response.set(wire::kStatus, "Unknown " + std::string(wire::kRequestId) +
                                    " (the caller left or timed out): answer dropped");
    co_return co_await poll(user_id, std::move(response));
  }
  auto parsed =
      wire::parse_raw_response(request.body(), exchange->head.method, config_.max_body_bytes);
  if (!parsed) {
    user->refuse(*exchange, 502, "INVALID_RESPONSE",
                 "the application's response was unusable: " + parsed.error());
    logger_->info("devtunnel user {} sent an unusable response to {}: {}", user_id, id,
                  parsed.error());
    co_return answer(request, http::status::bad_request,
                     "Missing response headers? " + parsed.error() + "\n");
  }
  // Tracing headers, as DevTunnel adds them.
  auto& headers = parsed->head.headers;
  headers.push_back({"x-tunnel-user-id", user_id});
  headers.push_back({"x-tunnel-request-id", id});
  headers.push_back({"x-tunnel-server-port", std::to_string(user->settings().port)});
  user->answer(*exchange, std::move(*parsed));
  // Then the same request waits as the client's next long poll.
  Response response = answer(request, http::status::ok, "");
  co_return co_await poll(user_id, std::move(response));
}

void DevTunnelServer::drop_oversized_answer(const Request& request) {
  DevTunnelUser* user = find(header(request, wire::kUserId));
  if (user == nullptr) return;
  if (auto exchange = user->delivered(header(request, wire::kRequestId))) {
    user->refuse(*exchange, 502, "TOO_LARGE",
                 "the application's response is over devtunnel.max_body_bytes");
  }
}

DevTunnelServer::Response DevTunnelServer::status_page() const {
  std::vector<DevTunnelUserRow> rows;
  const auto now = Clock::now();
  for (const auto& [id, user] : users_) {
    const DevTunnelUser& session = *user.session;
    rows.push_back(DevTunnelUserRow{id, user.port.port(), session.waiting(),
                                    session.delivered_count(), session.polls(), session.requests(),
                                    session.errors(), user.registered, wall(session.last_seen()),
                                    session.online(now)});
  }
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "text/html; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.body() = devtunnel_status_page(std::move(rows));
  response.prepare_payload();
  return response;
}

}  // namespace dialback::edge
