#include "transport/tls_dial.hpp"

#include <vector>

#include "tls/tls_context.hpp"
#include "transport/http_proxy_connect.hpp"

namespace dialback {
namespace {

constexpr auto kDialTimeout = std::chrono::seconds(10);

// The endpoints of host:port: no lookup for an IP literal (Asio's resolver
// runs getaddrinfo on a thread of its own, started on first use and kept
// for the process); empty on failure.
Task<std::vector<tcp::endpoint>> resolve(asio::any_io_executor executor, const std::string& host,
                                         std::uint16_t port, error_code& ec) {
  std::vector<tcp::endpoint> endpoints;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, port);
    co_return endpoints;
  }
  tcp::resolver resolver(executor);
  auto resolved = co_await resolver.async_resolve(host, std::to_string(port), nothrow(ec));
  if (!ec) {
    for (const auto& entry : resolved) endpoints.push_back(entry.endpoint());
  }
  co_return endpoints;
}

}  // namespace

std::unique_ptr<ByteStream> DialedTls::into_stream() {
  watchdog.reset();
  pending.reset();
  return std::make_unique<SocketByteStream<TlsStream>>(std::move(*tls));
}

Task<std::optional<DialedTls>> dial_tls(asio::any_io_executor executor, asio::ssl::context& tls,
                                        const EdgeTargetConfig& edge, const ProxyUrl* proxy,
                                        AlpnSet alpn, PendingDials* pending, const Logger& logger) {
  DialedTls dialed;
  dialed.where = edge.host + ":" + std::to_string(edge.port);
  // The TCP connection goes to the proxy when there is one.
  const std::string& host = proxy != nullptr ? proxy->host : edge.host;
  const std::uint16_t port = proxy != nullptr ? proxy->port : edge.port;
  const std::string what = proxy != nullptr ? "proxy " + proxy->display() : "edge " + dialed.where;
  error_code ec;
  const auto endpoints = co_await resolve(executor, host, port, ec);
  if (ec) {
    logger->warn("cannot resolve {}: {}", what, ec.message());
    co_return std::nullopt;
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
    logger->warn("cannot connect to {}: {}", what,
                 dialed.watchdog->fired() ? "timed out" : ec.message());
    co_return std::nullopt;
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (proxy != nullptr) {
    auto tunnel = co_await http_proxy_connect(socket, *proxy, edge.host, edge.port);
    if (!tunnel) {
      logger->warn("cannot reach edge {}: {}", dialed.where,
                   dialed.watchdog->fired() ? what + " timed out" : tunnel.error());
      co_return std::nullopt;
    }
    dialed.where += " via " + proxy->display();
  }
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
