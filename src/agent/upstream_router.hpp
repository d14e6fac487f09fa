// UpstreamRouter: the agent's routes. Holds one Upstream per path prefix
// and hands each tunnel stream to the one whose prefix matches the request
// path, longest prefix first, on segment boundaries (routing/path_prefix.hpp).
// The path goes to the local service unchanged. A request no prefix matches
// is answered 404 by the agent itself. Raw TCP streams (plain CONNECT) go
// to the tcp target's upstream, or are answered 501 without one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/upstream.hpp"
#include "core/logging.hpp"

namespace dialback::agent {

class UpstreamRouter final : public Upstream {
 public:
  struct Route {
    std::string prefix;  // as validated by the config: "/" or "/seg..." without a trailing '/'
    std::unique_ptr<Upstream> upstream;
  };

  // `tcp` serves raw TCP streams (plain CONNECT); null: they are refused (501).
  UpstreamRouter(std::vector<Route> routes, std::unique_ptr<Upstream> tcp, Logger logger);

  Task<void> serve(std::unique_ptr<IncomingStream> stream) override;
  // Aborts every route's upstream.
  void abort() override;

 private:
  Task<void> respond_no_route(std::unique_ptr<IncomingStream> stream);
  Task<void> respond_no_tcp(std::unique_ptr<IncomingStream> stream);

  std::vector<std::string> prefixes_;                // route i's prefix
  std::vector<std::unique_ptr<Upstream>> upstreams_;  // route i's upstream
  std::unique_ptr<Upstream> tcp_;                     // raw TCP streams; may be null
  Logger logger_;
};

}  // namespace dialback::agent
