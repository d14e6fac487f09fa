// DevTunnelUser: one registered DevTunnel client as a TunnelSession, so
// that its public requests go through the edge's ordinary forwarding
// (RequestForwarder, access log, counters). A stream opened on it is an
// Exchange: the request is buffered whole, queued, handed to the client's
// next long poll as raw bytes (take_next), and answered by the client's
// POST of the app's raw response (answer). Past `request_timeout` the
// public caller gets 503 TIMEOUT, while the client is unseen for
// `offline_after` 503 OFFLINE, with `queue` requests waiting 503 OVERFLOW.
//
// Shared (std::shared_ptr): the edge's DevTunnel server owns it while it
// runs and holds it across a long poll; streams keep a weak reference, so
// a user that ends (re-registered, closed, evicted) fails what it still
// holds and its streams see that.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "core/async_event.hpp"
#include "transport/devtunnel/devtunnel_wire.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback::devtunnel {

struct UserSettings {
  std::uint16_t port = 0;  // the user's public port (X-Tunnel-Server-Port)
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds offline_after{std::chrono::seconds(30)};
  std::size_t queue = 200;
  std::uint64_t max_body_bytes = 64u << 20;  // each way
};

// One public request on its way through a user.
struct Exchange {
  using Clock = std::chrono::steady_clock;
  enum class State { receiving, queued, delivered, answered, failed };

  explicit Exchange(asio::any_io_executor executor) : changed(std::move(executor)) {}

  std::string id;
  RequestHead head;
  std::string body;  // the request's, while it travels
  State state = State::receiving;
  std::optional<RawResponse> response;  // once answered (by the app, or by the edge)
  std::error_code failure;              // once failed
  Clock::time_point started = Clock::now();
  AsyncEvent changed;
  std::function<void()> on_abort;
};

class DevTunnelUser final : public TunnelSession,
                            public std::enable_shared_from_this<DevTunnelUser> {
 public:
  using Clock = std::chrono::steady_clock;

  DevTunnelUser(asio::any_io_executor executor, SessionIdentity identity, UserSettings settings);
  ~DevTunnelUser() override;

  // TunnelSession
  bool accepting() const override { return !closed_ && !going_away_; }
  Task<Result<std::unique_ptr<TunnelStream>>> open_stream(const RequestHead& head,
                                                          bool end_stream) override;
  void go_away() override { going_away_ = true; }
  Task<std::error_code> run() override;
  void close(Error reason) override;
  Task<std::size_t> drain(Clock::time_point deadline) override;
  const SessionIdentity& identity() const override { return identity_; }
  SessionStats stats() const override;
  asio::any_io_executor executor() const override { return executor_; }

  // The client wire. A long poll: the next queued request (now delivered),
  // or null at `deadline` or once the user ended. The client counts as
  // seen while it waits.
  Task<std::shared_ptr<Exchange>> wait_next(Clock::time_point deadline);
  // A delivered request whose id the client names, or null.
  std::shared_ptr<Exchange> delivered(const std::string& id) const;
  // Answers a delivered request with the app's response.
  void answer(Exchange& exchange, RawResponse response);
  // Any request from the client: it is alive.
  void seen() { last_seen_ = Clock::now(); }

  // Status page and eviction.
  bool online(Clock::time_point now) const;
  Clock::time_point offline_at() const;
  Clock::time_point last_seen() const { return last_seen_; }
  std::size_t waiting() const { return queue_.size(); }
  std::size_t delivered_count() const { return delivered_.size(); }
  std::size_t polls() const { return polls_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t errors() const { return errors_; }
  bool closed() const { return closed_; }
  const UserSettings& settings() const { return settings_; }

  // For the streams (devtunnel_user.cpp).
  void enqueue(const std::shared_ptr<Exchange>& exchange);
  void forget(const Exchange& exchange);
  void stream_ended() {
    --inflight_;
    changed_.notify();
  }
  // The edge answers the request itself (TIMEOUT, OFFLINE, OVERFLOW, an
  // unusable app response, ...): `status` with a text body as DevTunnel
  // words it and `X-Tunnel-Status: <word>`; the request leaves the queue
  // and the handed-out set, and counts as an error.
  void refuse(Exchange& exchange, int status, std::string_view word, std::string_view text);

 private:
  // Fails a request the user still holds (it ended): its stream's waiting
  // read wakes, and its abort handler runs unless the stream is gone first.
  void abort(const std::shared_ptr<Exchange>& exchange, Error reason);

  asio::any_io_executor executor_;
  SessionIdentity identity_;
  UserSettings settings_;
  std::mt19937_64 random_;
  std::deque<std::shared_ptr<Exchange>> queue_;  // complete requests, oldest first
  std::unordered_map<std::string, std::shared_ptr<Exchange>> delivered_;  // by id
  AsyncEvent changed_;  // queue, close or in-flight count changed
  Clock::time_point last_seen_ = Clock::now();
  std::size_t polls_ = 0;
  std::size_t inflight_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  bool closed_ = false;
  bool going_away_ = false;
};

}  // namespace dialback::devtunnel
