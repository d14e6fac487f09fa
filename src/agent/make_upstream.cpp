#include "agent/make_upstream.hpp"

#include "agent/http_upstream.hpp"

namespace dialback::agent {

std::unique_ptr<Upstream> make_upstream(const AgentRoute& route, asio::any_io_executor executor,
                                        UpstreamTimeouts timeouts, Logger logger) {
  if (route.h2c) {
    // H2C: plug the H2cUpstream in here (HTTP/2 with prior knowledge to the
    // local service, honouring route.host_rewrite as :authority). Until it
    // exists the route is served over HTTP/1.1, and the log says so.
    logger->warn("route {}: h2c is not implemented yet; using HTTP/1.1 to {}", route.prefix,
                 route.upstream.url);
  }
  return std::make_unique<HttpUpstream>(std::move(executor), route.upstream, timeouts,
                                        std::move(logger), route.host_rewrite);
}

}  // namespace dialback::agent
