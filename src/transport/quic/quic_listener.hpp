// QuicListener: a UDP listener for QUIC servers. One socket carries every
// connection; datagrams are routed by destination connection id, not by
// address, so a client whose address changes keeps its connection (the
// engine validates the new path). New connections are subject to the
// service's admission check, a connection cap, and optionally a Retry
// round trip that proves the client's address before a handshake is spent
// on it. What a connection carries is its QuicService's business: agents
// registering (QuicAgentListener) or public HTTP/3 (edge/public_h3_server).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/async_event.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "transport/quic/quic_connection.hpp"
#include "transport/quic/udp_offload.hpp"

namespace dialback::quic {

struct QuicListenerStats {
  std::size_t connections = 0;     // registering or running
  std::uint64_t retries_sent = 0;  // Retry packets (address validation)
  std::uint64_t send_dropped = 0;  // datagrams the socket had no room for
};

struct QuicListenerSettings {
  Side side = Side::edge;  // edge (agents) or public_server (public HTTP/3)
  QuicEngineSettings engine;
  bool retry = false;                   // every new connection proves its address first
  std::size_t max_connections = 10000;  // past it, new connections are ignored
};

// What a QuicListener does with the connections it accepts.
class QuicService {
 public:
  // Whether a new connection from `from` may start, checked before it costs
  // any state (rate limits; the service counts and logs a refusal).
  virtual bool allow_connection(const udp::endpoint& from) = 0;
  // Serves `connection` until it ends: co_awaits its run().
  virtual Task<void> serve(std::unique_ptr<QuicConnection> connection, udp::endpoint from) = 0;

 protected:
  ~QuicService() = default;
};

class QuicListener final : private DatagramSender {
 public:
  // `tls` offers the ALPNs the service speaks.
  QuicListener(asio::any_io_executor executor, const QuicListenerSettings& settings,
               std::unique_ptr<QuicTlsCredentials> tls, QuicService& service, Logger logger);
  ~QuicListener();

  Result<udp::endpoint> listen(const udp::endpoint& endpoint);
  // Receives until close(); the returned task ends when the socket closes.
  Task<void> receive_loop();
  // New connections are ignored from now on; running ones carry on.
  void stop_accepting() { accepting_ = false; }
  // Waits for every connection to end (the service ends them), closes the socket.
  Task<void> close();
  QuicListenerStats stats() const { return {connections_, retries_sent_, send_dropped_}; }
  const QuicListenerSettings& settings() const { return settings_; }

 private:
  void dispatch(const udp::endpoint& from, std::span<const std::uint8_t> datagram);
  void accept(const udp::endpoint& from, std::span<const std::uint8_t> datagram,
              const ngtcp2_pkt_hd& hd);
  void send_retry(const udp::endpoint& to, const ngtcp2_pkt_hd& hd);
  void send_version_negotiation(const udp::endpoint& to, const ngtcp2_version_cid& cid);
  void route(const ngtcp2_cid& cid, QuicConnection* connection, bool added);
  Task<void> serve(std::unique_ptr<QuicConnection> connection, udp::endpoint from);

  // DatagramSender
  void send(const UdpPath& path, std::span<const std::uint8_t> data,
            std::size_t segment_size) override;

  asio::any_io_executor executor_;
  QuicListenerSettings settings_;
  std::unique_ptr<QuicTlsCredentials> tls_;
  QuicService& service_;
  Logger logger_;
  udp::socket socket_;
  udp::endpoint local_;
  UdpOffload offload_;
  // Keys Retry tokens and stateless-reset tokens; fresh per process.
  std::array<std::uint8_t, 32> secret_{};
  std::unordered_map<std::string, QuicConnection*> by_connection_id_;
  TaskGroup connections_group_;
  AsyncEvent connections_changed_;
  std::size_t connections_ = 0;
  std::uint64_t send_dropped_ = 0;
  std::uint64_t retries_sent_ = 0;
  bool accepting_ = true;
  bool closed_ = false;
};

}  // namespace dialback::quic
