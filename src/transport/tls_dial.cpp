#include "transport/tls_dial.hpp"

#include <vector>

#include "tls/tls_context.hpp"

namespace dialback {
namespace {

constexpr auto kDialTimeout = std::chrono::seconds(10);

}  // namespace

std::unique_ptr<ByteStream> DialedTls::into_stream() {
  watchdog.reset();
  pending.reset();
  return std::make_unique<SocketByteStream<TlsStream>>(std::move(*tls));
}

Task<std::optional<DialedTls>> dial_tls(asio::any_io_executor executor, asio::ssl::context& tls,
                                        const EdgeTargetConfig& edge, AlpnSet alpn,
                                        PendingDials* pending, const Logger& logger) {
  DialedTls dialed;
  dialed.where = edge.host + ":" + std::to_string(edge.port);
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const auto literal = asio::ip::make_address(edge.host, ec);
  if (!ec) {
    // No lookup for an IP literal: Asio's resolver runs getaddrinfo on a
    // thread of its own, started on first use and kept for the process.
    endpoints.emplace_back(literal, edge.port);
  } else {
    tcp::resolver resolver(executor);
    auto resolved =
        co_await resolver.async_resolve(edge.host, std::to_string(edge.port), nothrow(ec));
    if (ec) {
      logger->warn("cannot resolve edge {}: {}", dialed.where, ec.message());
      co_return std::nullopt;
    }
    for (const auto& entry : resolved) endpoints.push_back(entry.endpoint());
  }
  dialed.tls = std::make_unique<TlsStream>(executor, tls);
  tcp::socket& socket = dialed.tls->next_layer();
  if (pending != nullptr) dialed.pending = pending->add(socket);
  dialed.watchdog = std::make_unique<Watchdog>(executor, kDialTimeout, [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  co_await asio::async_connect(socket, endpoints, nothrow(ec));
  if (ec) {
    logger->warn("cannot connect to edge {}: {}", dialed.where,
                 dialed.watchdog->fired() ? "timed out" : ec.message());
    co_return std::nullopt;
  }
  socket.set_option(tcp::no_delay(true), ec);
  auto prepared = prepare_client_stream(dialed.tls->native_handle(), edge.tls_name());
  if (prepared) prepared = offer_alpn(dialed.tls->native_handle(), alpn);
  if (!prepared) {
    logger->error("TLS setup for edge {}: {}", dialed.where, prepared.error().message());
    co_return std::nullopt;
  }
  co_await dialed.tls->async_handshake(asio::ssl::stream_base::client, nothrow(ec));
  if (ec) {
    logger->error("TLS handshake with edge {} failed: {}", dialed.where,
                  dialed.watchdog->fired() ? "timed out" : ec.message());
    co_return std::nullopt;
  }
  co_return dialed;
}

}  // namespace dialback
