#include "transport/rhttp/rhttp_dialer.hpp"

#include "transport/h2/agent_session.hpp"
#include "transport/tls_dial.hpp"

namespace dialback::rhttp {

Task<DialOutcome> RhttpDialer::dial(const EdgeTargetConfig& edge, DialRequest request) {
  DialOutcome outcome;
  auto dialed = co_await dial_tls(request.executor, *request.tls, edge, request.proxy,
                                  AlpnSet::rhttp_client, request.pending, request.logger);
  if (!dialed) co_return outcome;
  outcome.session = h2::make_agent_session(dialed->into_stream(), dialed->where,
                                           h2::PrefaceMode::reversed, {}, std::move(request));
  co_return outcome;
}

}  // namespace dialback::rhttp
