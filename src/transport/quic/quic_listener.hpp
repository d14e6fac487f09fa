// QuicListener: the edge's UDP listener for agents (`agents.quic`). One
// socket carries every QUIC connection; datagrams are routed by destination
// connection id, not by address, so an agent whose address changes keeps
// its session (the engine validates the new path). New connections are
// subject to the handshake rate limits of the TLS listener, a connection
// cap, and optionally a Retry round trip that proves the client's address
// before the edge spends a handshake on it.
//
// Each connection registers on its registration stream, in the protocol
// its ALPN names (quic_registration.hpp), and once Admission accepts it runs
// as a session of the edge's AgentSessionHost until it ends.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/async_event.hpp"
#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "transport/quic/quic_connection.hpp"
#include "transport/quic/quic_registration.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback::quic {

struct QuicListenerStats {
  std::size_t connections = 0;     // registering or running
  std::uint64_t retries_sent = 0;  // Retry packets (address validation)
  std::uint64_t send_dropped = 0;  // datagrams the socket had no room for
};

struct QuicListenerSettings {
  QuicEngineSettings engine;
  bool retry = false;                   // every new connection proves its address first
  std::size_t max_connections = 10000;  // past it, new connections are ignored
};

class QuicListener final : private DatagramSender {
 public:
  // `tls` offers the ALPN of each of `registrations`.
  QuicListener(asio::any_io_executor executor, const QuicListenerSettings& settings,
               std::unique_ptr<QuicTlsCredentials> tls,
               std::vector<std::unique_ptr<QuicRegistration>> registrations, AgentSessionHost& host,
               Logger logger);
  ~QuicListener();

  Result<udp::endpoint> listen(const udp::endpoint& endpoint);
  // Receives until close(); the returned task ends when the socket closes.
  Task<void> receive_loop();
  // New connections are ignored from now on; running ones carry on.
  void stop_accepting() { accepting_ = false; }
  // Closes every connection still registering, waits for every connection
  // to end (sessions are drained by their host first), closes the socket.
  Task<void> close();
  QuicListenerStats stats() const { return {connections_, retries_sent_, send_dropped_}; }

 private:
  void dispatch(const udp::endpoint& from, std::span<const std::uint8_t> datagram);
  void accept(const udp::endpoint& from, std::span<const std::uint8_t> datagram,
              const ngtcp2_pkt_hd& hd);
  void send_retry(const udp::endpoint& to, const ngtcp2_pkt_hd& hd);
  void send_version_negotiation(const udp::endpoint& to, const ngtcp2_version_cid& cid);
  void route(const ngtcp2_cid& cid, QuicConnection* connection, bool added);
  Task<void> serve(std::unique_ptr<QuicConnection> connection, AgentPeer peer);
  // Handshake and registration; the tunnel when Admission accepted it.
  Task<std::optional<std::string>> register_agent(QuicConnection& connection, AgentPeer& peer);

  // DatagramSender
  void send(const UdpPath& path, std::span<const std::uint8_t> datagram) override;

  asio::any_io_executor executor_;
  QuicListenerSettings settings_;
  std::unique_ptr<QuicTlsCredentials> tls_;
  std::vector<std::unique_ptr<QuicRegistration>> registrations_;
  AgentSessionHost& host_;
  Logger logger_;
  udp::socket socket_;
  udp::endpoint local_;
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
