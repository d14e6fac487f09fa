#include "agent/auto_transport_dialer.hpp"

#include "core/task_group.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;

// Whether an h2 dial that yielded no session should make `auto` use poll:
// it never reached the edge, or something in between answered (a 400 for
// the upgrade a middlebox removed, or an answer that is not the edge's).
bool worth_poll(const DialOutcome& outcome) {
  if (!outcome.rejection) return true;
  const auto& rejection = *outcome.rejection;
  return rejection.status == 0 || rejection.status == 400 || rejection.code == "http_error";
}

// A session on a fallback transport that probes the better ones meanwhile
// (AutoTransportDialer): `probe` answers which one works again, if any.
class ProbingSession final : public Session {
 public:
  using Probe = std::function<Task<std::optional<std::string>>()>;

  ProbingSession(std::unique_ptr<Session> inner, std::string_view on, Probe probe,
                 std::chrono::milliseconds interval, std::function<void()> on_goaway, Logger logger)
      : inner_(std::move(inner)),
        on_(on),
        probe_(std::move(probe)),
        interval_(interval),
        on_goaway_(std::move(on_goaway)),
        logger_(std::move(logger)),
        timer_(inner_->executor()),
        probes_(inner_->executor(), logger_, "auto transport probe") {}

  Task<std::error_code> run() override {
    probes_.spawn(probe_loop());
    const auto reason = co_await inner_->run();
    ended_ = true;
    timer_.cancel();
    co_await probes_.join();
    co_return reason;
  }
  void close(Error reason) override { inner_->close(reason); }
  Task<std::size_t> drain(Clock::time_point deadline) override { return inner_->drain(deadline); }
  const SessionIdentity& identity() const override { return inner_->identity(); }
  SessionStats stats() const override { return inner_->stats(); }
  asio::any_io_executor executor() const override { return inner_->executor(); }

 private:
  Task<void> probe_loop() {
    while (!ended_) {
      timer_.expires_after(interval_);
      error_code ec;
      co_await timer_.async_wait(nothrow(ec));
      if (ended_) co_return;
      const std::optional<std::string> better = co_await probe_();
      if (!better) continue;
      if (ended_) co_return;
      logger_->info("{} works again: moving session {} from {} to it", *better,
                    inner_->identity().session_id, on_);
      if (on_goaway_) on_goaway_();  // the slot opens the replacement now
      co_await inner_->drain(Clock::now() + std::chrono::seconds(30));
      co_return;
    }
  }

  std::unique_ptr<Session> inner_;
  std::string on_;  // the transport it runs on
  Probe probe_;
  std::chrono::milliseconds interval_;
  std::function<void()> on_goaway_;
  Logger logger_;
  asio::steady_timer timer_;
  TaskGroup probes_;
  bool ended_ = false;
};

}  // namespace

Task<DialOutcome> AutoTransportDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  const std::string where = edge.host + ":" + std::to_string(edge.port);
  const auto skip = [&](const auto& failures) {
    const auto it = failures.find(where);
    return it != failures.end() && Clock::now() - it->second < config_.probe_interval;
  };
  const auto ms_since = [](Clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  };
  const auto seconds = [](std::chrono::milliseconds interval) {
    return std::chrono::duration_cast<std::chrono::seconds>(interval).count();
  };
  const auto started = Clock::now();
  // The h2 session a probe registered while the slot's poll session ran.
  if (auto ready = h2_ready_.extract(where)) {
    Registered& registered = ready.mapped();
    *registered.on_goaway = request.on_goaway;
    request.logger->info("edge {}: on h2 again; probing QUIC every {} s", where,
                         seconds(config_.probe_interval));
    co_return DialOutcome{on_h2(std::move(registered.session), edge, request), std::nullopt};
  }
  if (!skip(quic_failed_)) {
    DialOutcome outcome = co_await quic_->dial(edge, request);
    if (outcome.session || outcome.rejection) {
      quic_failed_.erase(where);
      co_return outcome;
    }
    request.logger->warn("no QUIC session with edge {} after {} ms; trying h2", where,
                         ms_since(started));
    quic_failed_[where] = Clock::now();
  }
  if (!skip(h2_failed_)) {
    DialOutcome outcome = co_await tcp_->dial(edge, request);
    if (outcome.session) {
      h2_failed_.erase(where);
      request.logger->info("edge {}: on h2 after {} ms; probing QUIC every {} s", where,
                           ms_since(started), seconds(config_.probe_interval));
      outcome.session = on_h2(std::move(outcome.session), edge, request);
      co_return outcome;
    }
    if (!worth_poll(outcome)) co_return outcome;  // the edge's own refusal
    request.logger->warn("no h2 session with edge {}{}; trying poll", where,
                         outcome.rejection
                             ? " (answered " + std::to_string(outcome.rejection->status) + " " +
                                   outcome.rejection->code + ")"
                             : std::string());
    h2_failed_[where] = Clock::now();
  }
  const DialRequest probe_request = request;
  DialOutcome outcome = co_await poll_->dial(edge, std::move(request));
  if (!outcome.session) co_return outcome;
  probe_request.logger->info("edge {}: on poll after {} ms; probing h3 and h2 every {} s", where,
                             ms_since(started), seconds(config_.probe_interval));
  outcome.session = std::make_unique<ProbingSession>(
      std::move(outcome.session), "poll",
      [this, edge, probe_request] { return better_than_poll(edge, probe_request); },
      config_.probe_interval, probe_request.on_goaway, probe_request.logger);
  co_return outcome;
}

std::unique_ptr<Session> AutoTransportDialer::on_h2(std::unique_ptr<Session> session,
                                                    const EdgeTargetConfig& edge,
                                                    const DialRequest& request) {
  return std::make_unique<ProbingSession>(
      std::move(session), "h2",
      [this, edge, executor = request.executor, logger = request.logger]()
          -> Task<std::optional<std::string>> { return quic_works(edge, executor, logger); },
      config_.probe_interval, request.on_goaway, request.logger);
}

Task<std::optional<std::string>> AutoTransportDialer::quic_works(
    const EdgeTargetConfig& edge, const asio::any_io_executor& executor, const Logger& logger) {
  const bool works = co_await quic_->probe(edge, executor, logger);
  if (!works) co_return std::nullopt;
  quic_failed_.erase(edge.host + ":" + std::to_string(edge.port));
  co_return std::string("h3");
}

Task<std::optional<std::string>> AutoTransportDialer::better_than_poll(const EdgeTargetConfig& edge,
                                                                       const DialRequest& request) {
  std::optional<std::string> h3 = co_await quic_works(edge, request.executor, request.logger);
  if (h3) co_return h3;
  // A registration that works is kept for the slot's replacement, which
  // the probing session asks for next: closing it instead would fail the
  // requests the edge sends it before it learns of the close.
  const std::string where = edge.host + ":" + std::to_string(edge.port);
  auto on_goaway = std::make_shared<std::function<void()>>();
  DialRequest probe = request;
  probe.identity.session_id = generate_session_id();
  probe.pending = nullptr;
  probe.on_goaway = [on_goaway] {
    if (*on_goaway) (*on_goaway)();
  };
  DialOutcome tried = co_await tcp_->dial(edge, std::move(probe));
  if (!tried.session) co_return std::nullopt;
  h2_failed_.erase(where);
  h2_ready_.emplace(where, Registered{std::move(tried.session), std::move(on_goaway)});
  co_return std::string("h2");
}

}  // namespace dialback::agent
