#include "transport/quic/quic_client.hpp"

namespace dialback::quic {
namespace {
constexpr int kSocketBuffer = 4 << 20;  // as the edge's listener
}  // namespace

QuicClient::QuicClient(asio::any_io_executor executor, Logger logger)
    : executor_(executor),
      logger_(std::move(logger)),
      socket_(executor),
      readers_(executor, logger_, "quic client") {}

QuicClient::~QuicClient() = default;

Result<void> QuicClient::open_socket(const udp::endpoint& edge) {
  udp::socket socket(executor_);
  error_code ec;
  socket.open(edge.protocol(), ec);
  if (!ec) socket.connect(edge, ec);
  if (!ec) socket.non_blocking(true, ec);
  if (ec) return fail(ec);
  error_code ignored;
  socket.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  socket.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
  local_ = socket.local_endpoint(ec);
  if (ec) return fail(ec);
  socket_ = std::move(socket);
  enable_gro(socket_, offload_);
  return {};
}

Result<std::unique_ptr<QuicClient>> QuicClient::connect(asio::any_io_executor executor,
                                                        const udp::endpoint& edge,
                                                        const QuicEngineSettings& settings,
                                                        TlsSession tls, Logger logger) {
  std::unique_ptr<QuicClient> client(new QuicClient(executor, std::move(logger)));
  client->edge_ = edge;
  if (auto opened = client->open_socket(edge); !opened) return fail(opened.error());
  auto connection = QuicConnection::connect(executor, settings, std::move(tls),
                                            {client->local_, edge}, *client, client->logger_);
  if (!connection) return fail(connection.error());
  client->connection_ = std::move(*connection);
  client->readers_.spawn(client->receive_loop());
  return client;
}

Task<void> QuicClient::receive_loop() {
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    error_code ec;
    co_await socket_.async_wait(udp::socket::wait_read, nothrow(ec));
    if (ec) break;
    for (int i = 0; i < 256; ++i) {
      std::size_t segment = 0;
      const std::size_t n = receive_datagrams(socket_, buffer, nullptr, segment, ec);
      if (ec == asio::error::would_block) break;
      if (ec || n == 0) continue;  // an ICMP error (port unreachable) reported on the socket
      for (std::size_t at = 0; at < n; at += segment) {
        connection_->receive({local_, edge_}, {buffer.data() + at, std::min(segment, n - at)});
      }
    }
  }
}

void QuicClient::send(const UdpPath& /*path*/, std::span<const std::uint8_t> data,
                      std::size_t segment_size) {
  // Dropped when the socket buffer is full: QUIC resends it as after a loss.
  (void)send_datagrams(socket_, nullptr, data, segment_size, offload_);
}

Task<std::error_code> QuicClient::run() {
  const auto reason = co_await connection_->run();
  error_code ignored;
  socket_.close(ignored);
  co_await readers_.join();
  co_return reason;
}

}  // namespace dialback::quic
