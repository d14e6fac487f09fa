// GrpcAwareUpstream: one local service reached over HTTP/1.1 for ordinary
// requests and over h2c for gRPC calls (content-type application/grpc*),
// which need HTTP/2 trailers. What a route gets when it does not say h2c:
// a gRPC server behind the agent works without configuration.
#pragma once

#include <memory>

#include "agent/upstream.hpp"

namespace dialback::agent {

class GrpcAwareUpstream final : public Upstream {
 public:
  GrpcAwareUpstream(std::unique_ptr<Upstream> http1, std::unique_ptr<Upstream> h2c)
      : http1_(std::move(http1)), h2c_(std::move(h2c)) {}

  Task<void> serve(std::unique_ptr<IncomingStream> stream) override;
  void abort() override {
    http1_->abort();
    h2c_->abort();
  }

 private:
  std::unique_ptr<Upstream> http1_;
  std::unique_ptr<Upstream> h2c_;
};

}  // namespace dialback::agent
