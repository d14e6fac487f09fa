// Edge: the composition root of `dialback edge`. Owns the tunnel table, the
// session registry, the agent listener and the public listener; all run on
// one executor.
#pragma once

#include <memory>
#include <optional>

#include "config/edge_config.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/agent_listener.hpp"
#include "edge/allocations.hpp"
#include "edge/devtunnel_server.hpp"
#include "edge/edge_counters.hpp"
#include "edge/public_http_server.hpp"
#include "edge/public_tcp_server.hpp"
#include "edge/session_registry.hpp"
#include "edge/tunnel_table.hpp"
#include "transport/quic/quic_agent_listener.hpp"

namespace dialback::edge {

// The TLS identity of the agent listener, when not read from config files.
struct EdgeTlsPem {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // empty: no client certificates requested
  // The public HTTPS listener's identity; empty: public.https.cert/key files.
  std::string public_cert_pem;
  std::string public_key_pem;
};

class Edge {
 public:
  Edge(asio::any_io_executor executor, EdgeConfig config, Logger logger);
  ~Edge();

  // Loads TLS material (from the config's files, or `pem` when given), binds
  // both listeners and starts accepting. Errors carry a message for the user.
  tl::expected<void, std::string> start(const std::optional<EdgeTlsPem>& pem = std::nullopt);

  // Graceful stop: refuse new agents and requests, drain sessions until
  // `deadline`, wait for public connections to finish. When it returns no
  // coroutine of the edge is left, so the Edge may be destroyed; destroying
  // a started Edge without it is not allowed.
  Task<void> shutdown(std::chrono::steady_clock::time_point deadline);

  tcp::endpoint agent_endpoint() const { return agent_endpoint_; }
  tcp::endpoint public_endpoint() const { return public_endpoint_; }
  tcp::endpoint public_tls_endpoint() const { return public_tls_endpoint_; }
  // agents.quic's bound address; port 0 when QUIC is off.
  asio::ip::udp::endpoint agent_quic_endpoint() const { return agent_quic_endpoint_; }
  // public.h3's bound address; port 0 without it.
  asio::ip::udp::endpoint public_h3_endpoint() const { return public_h3_endpoint_; }
  // The tunnels' raw TCP ports as bound, in config order (tunnel by tunnel).
  const std::vector<tcp::endpoint>& tcp_endpoints() const { return tcp_endpoints_; }
  // The agents' QUIC listener; all zero when QUIC is off.
  quic::QuicListenerStats quic_stats() const {
    return quic_agents_ ? quic_agents_->stats() : quic::QuicListenerStats{};
  }
  const EdgeCounters& counters() const { return counters_; }
  // tunnels.<name>.allocate's leases; null when no tunnel allocates.
  Allocations* allocations() { return allocations_.get(); }
  std::size_t tcp_port_count() const { return tcp_ ? tcp_->port_count() : 0; }
  // devtunnel.listen as bound; port 0 without a devtunnel section.
  tcp::endpoint devtunnel_endpoint() const { return devtunnel_endpoint_; }
  // The DevTunnel front end; null without a devtunnel section.
  const DevTunnelServer* devtunnel() const { return devtunnel_.get(); }
  std::size_t session_count(std::string_view tunnel) const;
  const EdgeConfig& config() const { return config_; }

 private:
  // agents.quic: the UDP listener with the agent certificate.
  tl::expected<void, std::string> start_quic(const std::optional<EdgeTlsPem>& pem);
  // tunnels.<name>.tcp: the raw TCP ports.
  tl::expected<void, std::string> start_tcp_ports();
  // devtunnel: the DevTunnel client listener.
  tl::expected<void, std::string> start_devtunnel();
  // public.h3: the UDP listener with the public HTTPS certificate.
  tl::expected<void, std::string> start_public_h3(const std::optional<EdgeTlsPem>& pem);
  asio::any_io_executor executor_;
  EdgeConfig config_;
  Logger logger_;
  TunnelTable tunnels_;
  std::unique_ptr<SessionRegistry> registry_;
  EdgeCounters counters_;
  std::optional<asio::ssl::context> agent_tls_;
  std::optional<asio::ssl::context> public_tls_;
  std::unique_ptr<AgentListener> agents_;
  std::unique_ptr<PublicHttpServer> public_;
  std::unique_ptr<PublicTcpServer> tcp_;  // shares public_'s forwarder and slots
  std::unique_ptr<Allocations> allocations_;  // tunnels.<name>.allocate; null without any
  std::vector<tcp::endpoint> tcp_endpoints_;
  std::unique_ptr<DevTunnelServer> devtunnel_;  // devtunnel section; null without it
  tcp::endpoint devtunnel_endpoint_;
  std::unique_ptr<quic::QuicAgentListener> quic_agents_;  // agents.quic; null when off
  asio::ip::udp::endpoint agent_quic_endpoint_;
  asio::ip::udp::endpoint public_h3_endpoint_;
  tcp::endpoint agent_endpoint_;
  tcp::endpoint public_endpoint_;
  tcp::endpoint public_tls_endpoint_;
  TaskGroup accept_loops_{executor_, logger_, "edge accept loops"};  // shutdown() joins them
};

}  // namespace dialback::edge
