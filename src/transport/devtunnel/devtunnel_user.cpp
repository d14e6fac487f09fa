#include "transport/devtunnel/devtunnel_user.hpp"

#include <algorithm>
#include <utility>

#include "http1/header_translation.hpp"

namespace dialback::devtunnel {
namespace {

using Clock = std::chrono::steady_clock;
using State = Exchange::State;

// The edge's end of one exchange (the public request's tunnel stream).
class DevTunnelStream final : public TunnelStream {
 public:
  DevTunnelStream(std::shared_ptr<Exchange> exchange, std::weak_ptr<DevTunnelUser> user,
                  UserSettings settings)
      : exchange_(std::move(exchange)), user_(std::move(user)), settings_(settings) {}

  ~DevTunnelStream() override {
    exchange_->on_abort = nullptr;  // never called once the stream is gone
    if (auto user = user_.lock()) {
      if (exchange_->state != State::answered && exchange_->state != State::failed) {
        user->forget(*exchange_);
      }
      user->stream_ended();
    }
  }

  Task<Result<ResponseHead>> read_response(Clock::time_point deadline) override {
    Exchange& ex = *exchange_;
    const Clock::time_point too_old = ex.started + settings_.request_timeout;
    while (ex.state != State::answered && ex.state != State::failed) {
      auto user = user_.lock();
      if (!user || user->closed()) co_return fail(Error::session_closed);
      const auto now = Clock::now();
      if (now >= too_old) {
        user->refuse(ex, 503, "TIMEOUT",
                     "User " + user->identity().node + " took too long to respond");
        break;
      }
      if (!user->online(now)) {
        user->refuse(ex, 503, "OFFLINE", "User " + user->identity().node + " is offline");
        break;
      }
      if (now >= deadline) co_return fail(Error::timeout);
      const auto wake = std::min({deadline, too_old, user->offline_at()});
      user.reset();  // not held across the wait
      co_await ex.changed.wait_until(wake);
    }
    if (ex.state == State::failed) co_return fail(ex.failure);
    co_return ex.response->head;
  }

  bool response_has_body() const override {
    return !http1::response_has_no_body(exchange_->head.method, exchange_->response->head.status);
  }

  Task<Result<std::optional<std::string>>> read_body() override {
    if (exchange_->state != State::answered) co_return fail(Error::stream_reset);
    if (body_read_ || exchange_->response->body.empty()) co_return std::nullopt;
    body_read_ = true;
    co_return std::optional<std::string>(std::move(exchange_->response->body));
  }

  const HeaderList& trailers() const override { return no_trailers_; }
  bool body_ready() const override { return exchange_->state == State::answered; }

  Task<Result<void>> write_body(std::string_view data) override {
    Exchange& ex = *exchange_;
    if (ex.state != State::receiving) co_return fail(Error::stream_reset);
    if (ex.body.size() + data.size() > settings_.max_body_bytes) {
      if (auto user = user_.lock()) {
        user->refuse(ex, 413, "TOO_LARGE", "the request body is over devtunnel.max_body_bytes");
      }
      co_return fail(Error::limit_exceeded);
    }
    ex.body.append(data);
    co_return Result<void>{};
  }

  Result<void> end_body(HeaderList /*trailers: HTTP/1.1 without chunks carries none*/) override {
    if (exchange_->state != State::receiving) return fail(Error::stream_reset);
    auto user = user_.lock();
    if (!user || user->closed()) return fail(Error::session_closed);
    user->enqueue(exchange_);
    return {};
  }

  void reset(Error reason) override {
    Exchange& ex = *exchange_;
    if (ex.state == State::answered || ex.state == State::failed) return;
    if (auto user = user_.lock()) user->forget(ex);
    ex.state = State::failed;
    ex.failure = make_error_code(reason);
    ex.changed.notify();
  }

  void on_abort(std::function<void()> handler) override {
    exchange_->on_abort = std::move(handler);
  }

 private:
  std::shared_ptr<Exchange> exchange_;
  std::weak_ptr<DevTunnelUser> user_;
  UserSettings settings_;
  bool body_read_ = false;
  HeaderList no_trailers_;
};

}  // namespace

DevTunnelUser::DevTunnelUser(asio::any_io_executor executor, SessionIdentity identity,
                             UserSettings settings)
    : executor_(executor),
      identity_(std::move(identity)),
      settings_(settings),
      random_(std::random_device{}()),
      changed_(executor) {}

DevTunnelUser::~DevTunnelUser() { close(Error::session_closed); }

Task<Result<std::unique_ptr<TunnelStream>>> DevTunnelUser::open_stream(const RequestHead& head,
                                                                       bool end_stream) {
  if (!accepting()) co_return fail(Error::stream_refused);
  auto exchange = std::make_shared<Exchange>(executor_);
  exchange->id = new_request_id(random_) + "-" + std::to_string(++requests_);
  exchange->head = head;
  ++inflight_;
  auto stream = std::make_unique<DevTunnelStream>(exchange, weak_from_this(), settings_);
  const auto now = Clock::now();
  // What the client cannot carry, or cannot take now, the edge answers.
  if (head.method == "CONNECT") {
    refuse(*exchange, 501, "NOT_SUPPORTED",
           "DevTunnel clients carry plain HTTP requests only (no upgrades, no raw TCP)");
  } else if (!online(now)) {
    refuse(*exchange, 503, "OFFLINE", "User " + identity_.node + " is offline");
  } else if (end_stream) {
    enqueue(exchange);
  }
  co_return std::unique_ptr<TunnelStream>(std::move(stream));
}

void DevTunnelUser::enqueue(const std::shared_ptr<Exchange>& exchange) {
  if (queue_.size() >= settings_.queue) {
    refuse(*exchange, 503, "OVERFLOW", "User " + identity_.node + " request queue full");
    return;
  }
  exchange->state = State::queued;
  bytes_out_ += exchange->body.size();
  queue_.push_back(exchange);
  changed_.notify();
}

void DevTunnelUser::forget(const Exchange& exchange) {
  std::erase_if(queue_, [&](const auto& queued) { return queued.get() == &exchange; });
  delivered_.erase(exchange.id);
  changed_.notify();
}

Task<std::shared_ptr<Exchange>> DevTunnelUser::wait_next(Clock::time_point deadline) {
  auto self = shared_from_this();  // alive across the wait, whatever ends it
  ++polls_;
  seen();
  while (!closed_ && queue_.empty() && Clock::now() < deadline) {
    co_await changed_.wait_until(deadline);
  }
  --polls_;
  seen();
  if (closed_ || queue_.empty()) co_return nullptr;
  auto exchange = std::move(queue_.front());
  queue_.pop_front();
  exchange->state = State::delivered;
  delivered_.emplace(exchange->id, exchange);
  co_return exchange;
}

std::shared_ptr<Exchange> DevTunnelUser::delivered(const std::string& id) const {
  auto it = delivered_.find(id);
  return it == delivered_.end() ? nullptr : it->second;
}

void DevTunnelUser::answer(Exchange& exchange, RawResponse response) {
  bytes_in_ += response.body.size();
  delivered_.erase(exchange.id);
  exchange.response = std::move(response);
  exchange.state = State::answered;
  exchange.changed.notify();
}

void DevTunnelUser::abort(const std::shared_ptr<Exchange>& exchange, Error reason) {
  exchange->failure = make_error_code(reason);
  exchange->state = State::failed;
  exchange->changed.notify();
  if (!exchange->on_abort) return;
  asio::post(executor_, [weak = std::weak_ptr<Exchange>(exchange)] {
    auto alive = weak.lock();
    if (alive && alive->on_abort) std::exchange(alive->on_abort, nullptr)();
  });
}

bool DevTunnelUser::online(Clock::time_point now) const {
  return polls_ > 0 || now < last_seen_ + settings_.offline_after;
}

Clock::time_point DevTunnelUser::offline_at() const {
  return polls_ > 0 ? Clock::now() + settings_.offline_after : last_seen_ + settings_.offline_after;
}

void DevTunnelUser::refuse(Exchange& exchange, int status, std::string_view word,
                           std::string_view text) {
  forget(exchange);
  ++errors_;
  RawResponse answer;
  answer.body = std::string(word) + ": " + std::string(text) + "\n";
  answer.head.status = status;
  answer.head.headers = {{"content-type", "text/plain"},
                         {"content-length", std::to_string(answer.body.size())},
                         {"x-tunnel-status", std::string(word)}};
  exchange.response = std::move(answer);
  exchange.state = State::answered;
  exchange.changed.notify();
}

void DevTunnelUser::close(Error reason) {
  if (closed_) return;
  closed_ = true;
  auto queued = std::move(queue_);
  auto delivered = std::move(delivered_);
  queue_.clear();
  delivered_.clear();
  for (const auto& exchange : queued) abort(exchange, reason);
  for (const auto& [id, exchange] : delivered) abort(exchange, reason);
  changed_.notify();
}

Task<std::error_code> DevTunnelUser::run() {
  auto self = shared_from_this();
  while (!closed_) co_await changed_.wait();
  co_return make_error_code(Error::session_closed);
}

Task<std::size_t> DevTunnelUser::drain(Clock::time_point deadline) {
  auto self = shared_from_this();
  going_away_ = true;
  while (!closed_ && inflight_ > 0 && Clock::now() < deadline) {
    co_await changed_.wait_until(deadline);
  }
  const std::size_t cut = inflight_;
  close(Error::session_closed);
  co_return cut;
}

SessionStats DevTunnelUser::stats() const {
  SessionStats out;
  out.inflight = inflight_;
  out.streams_total = requests_;
  out.bytes_in = bytes_in_;
  out.bytes_out = bytes_out_;
  return out;
}

}  // namespace dialback::devtunnel
