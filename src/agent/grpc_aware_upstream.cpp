#include "agent/grpc_aware_upstream.hpp"

#include "agent/error_response.hpp"

namespace dialback::agent {

Task<void> GrpcAwareUpstream::serve(std::unique_ptr<IncomingStream> stream) {
  Upstream& chosen = is_grpc(stream->request()) ? *h2c_ : *http1_;
  co_await chosen.serve(std::move(stream));
}

}  // namespace dialback::agent
