// TcpServiceFixture: a TunnelFixture with local TCP services (tcp_service.hpp)
// that the test adds and that are stopped before the tunnel shuts down.
#pragma once

#include <memory>
#include <vector>

#include "tcp_service.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {

class TcpServiceFixture : public TunnelFixture {
 protected:
  void TearDown() override {
    for (auto& service : services_) service->stop();
    TunnelFixture::TearDown();
    services_.clear();
  }

  TcpService& add_service(TcpService::Serve serve) {
    services_.push_back(std::make_unique<TcpService>(executor_, std::move(serve)));
    return *services_.back();
  }

 private:
  std::vector<std::unique_ptr<TcpService>> services_;
};

}  // namespace dialback::test
