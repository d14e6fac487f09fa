#include "agent/make_upstream.hpp"

#include "agent/grpc_aware_upstream.hpp"
#include "agent/h2c_upstream.hpp"
#include "agent/http_upstream.hpp"

namespace dialback::agent {

std::unique_ptr<Upstream> make_upstream(const AgentRoute& route, asio::any_io_executor executor,
                                        UpstreamTimeouts timeouts, Logger logger) {
  auto h2c = std::make_unique<H2cUpstream>(executor, route.upstream, timeouts, logger,
                                           route.host_rewrite);
  if (route.h2c) return h2c;
  auto http1 = std::make_unique<HttpUpstream>(executor, route.upstream, timeouts, logger,
                                              route.host_rewrite);
  return std::make_unique<GrpcAwareUpstream>(std::move(http1), std::move(h2c));
}

}  // namespace dialback::agent
