// DevTunnelServer: the edge's DevTunnel-compatible front end
// (docs/devtunnel.md). DevTunnel's clients speak plain HTTP/1.1 to
// `devtunnel.listen`: GET /register (a port from devtunnel.ports, leased
// by an AllocationTable with DevTunnel's rules: the preferred port when
// free, else a random one, when full the longest unseen user's if it is
// offline), GET /data (a long poll for the next request), POST /data (the
// app's response, then the next long poll), GET /close, and GET /status.
//
// Each registered user is a DevTunnelUser session of the tunnel
// `devtunnel.tunnel` in the SessionRegistry, and gets a pinned public HTTP
// port (PublicHttpServer::open_pinned_port) on devtunnel.bind: its
// requests take the ordinary forwarding path (RequestForwarder, access log,
// counters, limits). One per edge, on its executor.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "config/edge_config.hpp"
#include "core/async_event.hpp"
#include "core/listener.hpp"
#include "core/log_sampler.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/allocation_table.hpp"
#include "edge/public_http_server.hpp"
#include "edge/session_registry.hpp"
#include "transport/devtunnel/devtunnel_user.hpp"

namespace dialback::edge {

class DevTunnelServer {
 public:
  // `tunnel`: the index of devtunnel.tunnel in the edge's TunnelTable.
  DevTunnelServer(asio::any_io_executor executor, const DevTunnelConfig& config, std::size_t tunnel,
                  PublicHttpServer& public_http, SessionRegistry& registry, Logger logger);

  Result<tcp::endpoint> listen(const tcp::endpoint& endpoint);
  Task<void> accept_loop();
  // Edge drain, first step: the users take no new public requests (503),
  // registrations are refused, and the client wire keeps serving so that
  // what was handed out can still be answered.
  void begin_drain();
  // Then: waits until the users answered what they hold, or `deadline`;
  // stops accepting, ends every user (what is left fails, their ports
  // close) and the client connections; returns once all are gone.
  Task<void> stop(std::chrono::steady_clock::time_point deadline);

  std::size_t user_count() const { return users_.size(); }
  // Public requests queued for the users' next polls, over all users.
  std::size_t waiting_requests() const;

 private:
  using Clock = std::chrono::steady_clock;
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  struct User {
    std::shared_ptr<devtunnel::DevTunnelUser> session;
    tcp::endpoint port;  // its pinned public port, as bound
    std::chrono::system_clock::time_point registered = std::chrono::system_clock::now();
  };

  Task<void> serve(tcp::socket socket);
  Task<Response> handle(const Request& request, const std::string& client);
  Task<Response> register_user(const Request& request, const std::string& user_id,
                               const std::string& client);
  Task<Response> poll(const std::string& user_id, Response response);
  Task<Response> post_response(const Request& request, const std::string& user_id);
  Task<Response> close_user(const Request& request, const std::string& user_id);
  Response status_page() const;
  // A POST /data whose body was over max_body_bytes: its public caller gets 502.
  void drop_oversized_answer(const Request& request);

  // Ends `user_id`'s session (its requests fail) and closes its port; the
  // lease stays unless `release`.
  Task<void> end_user(const std::string& user_id, bool release);
  // Runs a user's session in the registry until it ends (owns it meanwhile).
  Task<void> run_user(std::shared_ptr<devtunnel::DevTunnelUser> session);
  devtunnel::DevTunnelUser* find(const std::string& user_id) const;
  Response answer(const Request& request, http::status status, std::string body) const;

  asio::any_io_executor executor_;
  const DevTunnelConfig& config_;
  std::size_t tunnel_;
  std::string tunnel_name_;
  PublicHttpServer& public_http_;
  SessionRegistry& registry_;
  Logger logger_;
  Listener listener_;
  AllocationTable ports_;
  std::map<std::string, User> users_;  // by user id
  std::list<tcp::socket*> clients_;    // client connections, to close on stop
  AsyncEvent changed_;                 // registrations, users and clients come and go
  bool registering_ = false;           // a register or close is under way (one at a time)
  TaskGroup sessions_;                 // run_user() of each user
  bool draining_ = false;  // begin_drain() was called
  bool stopping_ = false;  // the client wire closes
  LogSampler refusal_log_{std::chrono::seconds(10)};  // refused clients: a line per 10 s each
};

}  // namespace dialback::edge
