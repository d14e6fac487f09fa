// QuicClient: the agent's end of one `h3` session: a UDP socket of its
// own, connected to the edge, and the QuicConnection over it. It is the
// Session the agent runs. The agent does not move a session on its own
// (it does not watch for network changes); when a NAT gives it a new
// public port, the edge follows (connection ids, docs/protocol.md §10).
#pragma once

#include <memory>

#include "core/task_group.hpp"
#include "transport/quic/quic_connection.hpp"
#include "transport/quic/udp_offload.hpp"

namespace dialback::quic {

class QuicClient final : public Session, private DatagramSender {
 public:
  // Opens a socket to `edge` and starts the handshake.
  static Result<std::unique_ptr<QuicClient>> connect(asio::any_io_executor executor,
                                                     const udp::endpoint& edge,
                                                     const QuicEngineSettings& settings,
                                                     TlsSession tls, Logger logger);
  ~QuicClient() override;

  QuicConnection& connection() { return *connection_; }

  // Session
  Task<std::error_code> run() override;
  void close(Error reason) override { connection_->close(reason); }
  Task<std::size_t> drain(std::chrono::steady_clock::time_point deadline) override {
    return connection_->drain(deadline);
  }
  const SessionIdentity& identity() const override { return connection_->identity(); }
  SessionStats stats() const override { return connection_->stats(); }
  asio::any_io_executor executor() const override { return executor_; }

 private:
  QuicClient(asio::any_io_executor executor, Logger logger);
  Result<void> open_socket(const udp::endpoint& edge);
  Task<void> receive_loop();

  // DatagramSender
  void send(const UdpPath& path, std::span<const std::uint8_t> data,
            std::size_t segment_size) override;

  asio::any_io_executor executor_;
  Logger logger_;
  udp::socket socket_;
  UdpOffload offload_;
  udp::endpoint local_;
  udp::endpoint edge_;
  std::unique_ptr<QuicConnection> connection_;
  TaskGroup readers_;
};

}  // namespace dialback::quic
