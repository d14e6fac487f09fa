// PublicH3Server: HTTP/3 for public clients (`public.h3`): a QUIC listener
// on UDP with public.https's certificate (ALPN h3), nghttp3 as a plain
// HTTP/3 server (QuicEngine's public_server side), and every request stream
// forwarded through a tunnel by the PublicStreamForwarder the HTTP/2 front
// end uses. public.limits.connections_per_ip counts its connections with
// the TCP ones; an idle connection ends after public.idle_timeout (the QUIC
// idle timeout).
//
// Owner: PublicHttpServer; all calls on its executor.
#pragma once

#include <chrono>
#include <list>
#include <memory>

#include "core/logging.hpp"
#include "core/task_group.hpp"
#include "edge/connection_slots.hpp"
#include "edge/request_forwarder.hpp"
#include "transport/quic/quic_listener.hpp"

namespace dialback::edge {

class PublicH3Server final : private quic::QuicService {
 public:
  // The listener settings of `public.h3` with the public limits.
  static quic::QuicListenerSettings settings(const PublicConfig& config);

  PublicH3Server(asio::any_io_executor executor, const quic::QuicListenerSettings& settings,
                 std::unique_ptr<quic::QuicTlsCredentials> tls, RequestForwarder& forwarder,
                 ConnectionSlots& slots, Logger logger);

  Result<quic::udp::endpoint> listen(const quic::udp::endpoint& endpoint) {
    return listener_.listen(endpoint);
  }
  Task<void> receive_loop() { return listener_.receive_loop(); }
  // No new connections; open ones get GOAWAY, finish their streams until
  // `deadline` and close.
  void stop(std::chrono::steady_clock::time_point deadline);
  // Waits for every connection to end, then closes the socket.
  Task<void> close() { return listener_.close(); }
  quic::QuicListenerStats stats() const { return listener_.stats(); }

 private:
  struct Open {
    quic::QuicConnection* connection;
    TaskGroup* tasks;  // its streams' forwarders
  };

  // QuicService
  bool allow_connection(const quic::udp::endpoint&) override { return !stopping_; }
  Task<void> serve(std::unique_ptr<quic::QuicConnection> connection,
                   quic::udp::endpoint from) override;

  asio::any_io_executor executor_;
  RequestForwarder& forwarder_;
  ConnectionSlots& slots_;
  Logger logger_;
  std::list<Open> open_;
  bool stopping_ = false;
  quic::QuicListener listener_;
};

}  // namespace dialback::edge
