// AutoTransportDialer: `transport: auto`, the chain h3 -> h2 -> poll. Dials
// QUIC (`h3`) first; when no QUIC handshake completes within
// quic.fallback_after (UDP blocked or dropped on the way), dials `h2` over
// TCP; when that cannot connect or register either (no TCP path, or a
// middlebox that mangles the upgrade: a 400, or an answer that is not the
// edge's), dials `poll`. A step that failed is skipped for
// quic.probe_interval. While the session runs on a fallback, the better
// transports are probed every quic.probe_interval (QUIC by a handshake, h2
// by a registration); once one works, the session announces it drains (the
// slot opens a replacement, which takes the better transport) and is
// drained, so no request is dropped. The h2 probe's session is that
// replacement: the edge may route requests to it as soon as it registered,
// so it is kept for the slot's next dial rather than closed. A refusal by
// the edge itself (401, 403, 404, 429, 503) is returned as is.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/agent_config.hpp"
#include "transport/quic/h3_dialer.hpp"
#include "transport/session_dialer.hpp"

namespace dialback::agent {

class AutoTransportDialer final : public SessionDialer {
 public:
  // `quic` dials with the handshake timeout of fallback_after.
  AutoTransportDialer(std::unique_ptr<quic::H3Dialer> quic, std::unique_ptr<SessionDialer> tcp,
                      std::unique_ptr<SessionDialer> poll, AutoTransportConfig config)
      : quic_(std::move(quic)), tcp_(std::move(tcp)), poll_(std::move(poll)), config_(config) {}
  std::string_view name() const override { return "auto"; }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;

 private:
  // `session` (on h2) probing QUIC while it runs.
  std::unique_ptr<Session> on_h2(std::unique_ptr<Session> session, const EdgeTargetConfig& edge,
                                 const DialRequest& request);
  // "h3" when a QUIC handshake with `edge` completes. The arguments must
  // outlive the task (the probing session's closure holds them).
  Task<std::optional<std::string>> quic_works(const EdgeTargetConfig& edge,
                                              const asio::any_io_executor& executor,
                                              const Logger& logger);
  // The probe of a poll session: "h3", else "h2" when an h2 registration
  // works (its session waits in h2_ready_), else nullopt. The same
  // lifetime rule.
  Task<std::optional<std::string>> better_than_poll(const EdgeTargetConfig& edge,
                                                    const DialRequest& request);

  std::unique_ptr<quic::H3Dialer> quic_;
  std::unique_ptr<SessionDialer> tcp_;
  std::unique_ptr<SessionDialer> poll_;
  AutoTransportConfig config_;
  // Per edge ("host:port"): when QUIC, and h2, last failed; absent: tried.
  std::map<std::string, std::chrono::steady_clock::time_point> quic_failed_;
  std::map<std::string, std::chrono::steady_clock::time_point> h2_failed_;
  // Per edge: the h2 sessions probes registered, each for the next dial of
  // a slot, and where its GOAWAY goes once a slot took it.
  struct Registered {
    std::unique_ptr<Session> session;
    std::shared_ptr<std::function<void()>> on_goaway;
  };
  std::multimap<std::string, Registered> h2_ready_;
};

}  // namespace dialback::agent
