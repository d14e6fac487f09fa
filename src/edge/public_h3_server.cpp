#include "edge/public_h3_server.hpp"

#include "edge/public_stream_forwarder.hpp"

namespace dialback::edge {

using Clock = std::chrono::steady_clock;

namespace {
// HTTP/3 H3_EXCESSIVE_LOAD (RFC 9114 §8.1): the connection is over a limit.
constexpr std::uint64_t kH3ExcessiveLoad = 0x107;
}  // namespace

quic::QuicListenerSettings PublicH3Server::settings(const PublicConfig& config) {
  quic::QuicListenerSettings out;
  out.side = quic::Side::public_server;
  out.retry = config.h3 ? config.h3->retry : false;
  out.max_connections = config.h3 ? config.h3->max_connections : 0;
  quic::QuicEngineSettings& engine = out.engine;
  engine.stream_window = config.windows.stream;
  engine.connection_window = config.windows.connection;
  engine.max_streams = config.max_concurrent_streams;
  engine.idle_timeout = config.idle_timeout;
  engine.keep_alive = std::chrono::milliseconds(0);  // the client keeps its connection alive
  engine.handshake_timeout = config.header_timeout;
  engine.max_header_bytes = config.max_header_bytes;
  return out;
}

PublicH3Server::PublicH3Server(asio::any_io_executor executor,
                               const quic::QuicListenerSettings& settings,
                               std::unique_ptr<quic::QuicTlsCredentials> tls,
                               RequestForwarder& forwarder, ConnectionSlots& slots, Logger logger)
    : executor_(executor),
      forwarder_(forwarder),
      slots_(slots),
      logger_(logger),
      listener_(std::move(executor), settings, std::move(tls), *this, std::move(logger)) {}

void PublicH3Server::stop(Clock::time_point deadline) {
  stopping_ = true;
  listener_.stop_accepting();
  for (const Open& open : open_) open.tasks->spawn(open.connection->drain(deadline));
}

Task<void> PublicH3Server::serve(std::unique_ptr<quic::QuicConnection> connection,
                                 quic::udp::endpoint from) {
  const PublicPeer peer = forwarder_.peer(from.address().to_string());
  if (!slots_.take(peer.source)) {
    // Over public.limits.connections_per_ip: closed during the handshake.
    ++forwarder_.counters().requests_rate_limited;
    forwarder_.log_rejected(forwarder_.next_request_id(), peer.ip, 429,
                            "public.limits.connections_per_ip (QUIC connection closed)");
    connection->close_with(kH3ExcessiveLoad, "too many connections from this address");
    co_await connection->run();
    co_return;
  }
  PublicStreamForwarder streams(forwarder_, peer, "https", {}, executor_, logger_);
  TaskGroup tasks(executor_, logger_, "public h3 connection");
  connection->set_incoming_handler([&streams, &tasks](std::unique_ptr<IncomingStream> stream) {
    tasks.spawn(streams.forward(std::move(stream)));
  });
  auto self = open_.insert(open_.end(), Open{connection.get(), &tasks});
  if (stopping_) tasks.spawn(connection->drain(Clock::now()));
  const auto reason = co_await connection->run();
  open_.erase(self);
  logger_->debug("public h3 client {}: connection ended: {}", peer.ip, reason.message());
  co_await tasks.join();
  slots_.release(peer.source);
}

}  // namespace dialback::edge
