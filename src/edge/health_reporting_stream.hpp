// HealthReportingStream: a TunnelStream decorator that tells the session's
// SessionHealth whether the exchange got its response head (success) or
// failed before it (a failure, when the tunnel is to blame). Reports once.
#pragma once

#include <memory>

#include "edge/session_health.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::edge {

class HealthReportingStream final : public TunnelStream {
 public:
  HealthReportingStream(std::unique_ptr<TunnelStream> inner, std::shared_ptr<SessionHealth> health)
      : inner_(std::move(inner)), health_(std::move(health)) {}

  Task<Result<ResponseHead>> read_response(std::chrono::steady_clock::time_point deadline) override;
  bool response_has_body() const override { return inner_->response_has_body(); }
  Task<Result<std::optional<std::string>>> read_body() override { return inner_->read_body(); }
  const HeaderList& trailers() const override { return inner_->trailers(); }
  bool body_ready() const override { return inner_->body_ready(); }
  Task<Result<void>> write_body(std::string_view data) override { return inner_->write_body(data); }
  Result<void> end_body(HeaderList trailers = {}) override {
    return inner_->end_body(std::move(trailers));
  }
  void reset(Error reason) override { inner_->reset(reason); }
  void on_abort(std::function<void()> handler) override { inner_->on_abort(std::move(handler)); }

 private:
  std::unique_ptr<TunnelStream> inner_;
  std::shared_ptr<SessionHealth> health_;  // null once reported
};

}  // namespace dialback::edge
