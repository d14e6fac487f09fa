#include "agent/auto_transport_dialer.hpp"

#include "core/task_group.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;

// An h2 session that probes QUIC meanwhile (AutoTransportDialer).
class ProbingSession final : public Session {
 public:
  ProbingSession(std::unique_ptr<Session> inner, quic::H3Dialer& quic, EdgeTargetConfig edge,
                 std::chrono::milliseconds interval, std::function<void()> on_goaway,
                 std::function<void()> on_quic_back, Logger logger)
      : inner_(std::move(inner)),
        quic_(quic),
        edge_(std::move(edge)),
        interval_(interval),
        on_goaway_(std::move(on_goaway)),
        on_quic_back_(std::move(on_quic_back)),
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
      if (!co_await quic_.probe(edge_, inner_->executor(), logger_)) continue;
      if (ended_) co_return;
      logger_->info("QUIC to edge {}:{} works again: moving session {} from h2 to h3", edge_.host,
                    edge_.port, inner_->identity().session_id);
      on_quic_back_();
      if (on_goaway_) on_goaway_();  // the slot opens the replacement now
      co_await inner_->drain(Clock::now() + std::chrono::seconds(30));
      co_return;
    }
  }

  std::unique_ptr<Session> inner_;
  quic::H3Dialer& quic_;
  EdgeTargetConfig edge_;
  std::chrono::milliseconds interval_;
  std::function<void()> on_goaway_;
  std::function<void()> on_quic_back_;
  Logger logger_;
  asio::steady_timer timer_;
  TaskGroup probes_;
  bool ended_ = false;
};

}  // namespace

Task<DialOutcome> AutoTransportDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  const std::string where = edge.host + ":" + std::to_string(edge.port);
  auto failed = quic_failed_.find(where);
  const bool try_quic =
      failed == quic_failed_.end() || Clock::now() - failed->second >= config_.probe_interval;
  if (try_quic) {
    const auto started = Clock::now();
    DialOutcome outcome = co_await quic_->dial(edge, request);
    if (outcome.session || outcome.rejection) {
      quic_failed_.erase(where);
      co_return outcome;
    }
    request.logger->warn(
        "no QUIC session with edge {} after {} ms; using h2 and probing QUIC every {} s", where,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count(),
        std::chrono::duration_cast<std::chrono::seconds>(config_.probe_interval).count());
    quic_failed_[where] = Clock::now();
  }
  auto on_goaway = request.on_goaway;
  Logger logger = request.logger;
  DialOutcome outcome = co_await tcp_->dial(edge, std::move(request));
  if (!outcome.session) co_return outcome;
  outcome.session = std::make_unique<ProbingSession>(
      std::move(outcome.session), *quic_, edge, config_.probe_interval, std::move(on_goaway),
      [this, where] { quic_failed_.erase(where); }, std::move(logger));
  co_return outcome;
}

}  // namespace dialback::agent
