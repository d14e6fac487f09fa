#include "transport/quic/quic_listener.hpp"

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace dialback::quic {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kConnectionIdLength = 16;  // as QuicEngine issues them
constexpr auto kRetryTokenLifetime = std::chrono::seconds(10);
// Socket buffers: a burst of datagrams from many agents must not be dropped
// by the kernel while the loop is busy (the kernel caps it at rmem_max).
constexpr int kSocketBuffer = 4 << 20;

std::string key_of(const std::uint8_t* data, std::size_t length) {
  return std::string(reinterpret_cast<const char*>(data), length);
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

}  // namespace

QuicListener::QuicListener(asio::any_io_executor executor, const QuicListenerSettings& settings,
                           std::unique_ptr<QuicTlsCredentials> tls, QuicService& service,
                           Logger logger)
    : executor_(executor),
      settings_(settings),
      tls_(std::move(tls)),
      service_(service),
      logger_(std::move(logger)),
      socket_(executor),
      connections_group_(executor, logger_, "quic listener"),
      connections_changed_(executor) {
  (void)gnutls_rnd(GNUTLS_RND_KEY, secret_.data(), secret_.size());
}

QuicListener::~QuicListener() = default;

Result<udp::endpoint> QuicListener::listen(const udp::endpoint& endpoint) {
  error_code ec;
  socket_.open(endpoint.protocol(), ec);
  if (!ec) socket_.bind(endpoint, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) return fail(ec);
  error_code ignored;
  socket_.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  socket_.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
  enable_gro(socket_, offload_);
  local_ = socket_.local_endpoint(ec);
  if (ec) return fail(ec);
  return local_;
}

Task<void> QuicListener::receive_loop() {
  std::vector<std::uint8_t> buffer(65536);
  udp::endpoint from;
  while (!closed_) {
    error_code ec;
    co_await socket_.async_wait(udp::socket::wait_read, nothrow(ec));
    if (ec) break;
    // A bounded batch, then let the connections write (their flush loops).
    for (int i = 0; i < 256; ++i) {
      std::size_t segment = 0;
      const std::size_t n = receive_datagrams(socket_, buffer, &from, segment, ec);
      if (ec == asio::error::would_block) break;
      if (ec || n == 0) continue;  // an ICMP error reported on the socket; nothing to do
      for (std::size_t at = 0; at < n; at += segment) {
        dispatch(from, {buffer.data() + at, std::min(segment, n - at)});
      }
    }
  }
}

void QuicListener::dispatch(const udp::endpoint& from, std::span<const std::uint8_t> datagram) {
  ngtcp2_version_cid cid{};
  const int rv =
      ngtcp2_pkt_decode_version_cid(&cid, datagram.data(), datagram.size(), kConnectionIdLength);
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
    if (accepting_) send_version_negotiation(from, cid);
    return;
  }
  if (rv != 0) return;  // not QUIC
  auto it = by_connection_id_.find(key_of(cid.dcid, cid.dcidlen));
  if (it != by_connection_id_.end()) {
    it->second->receive({local_, from}, datagram);
    return;
  }
  // Only a client's Initial opens a connection; anything else for an
  // unknown id is dropped (a stateless reset would tell an agent sooner,
  // but costs a reply to spoofable input).
  if (!accepting_ || (datagram[0] & 0x80) == 0) return;
  ngtcp2_pkt_hd hd;
  if (ngtcp2_accept(&hd, datagram.data(), datagram.size()) != 0) return;
  accept(from, datagram, hd);
}

void QuicListener::accept(const udp::endpoint& from, std::span<const std::uint8_t> datagram,
                          const ngtcp2_pkt_hd& hd) {
  if (connections_ >= settings_.max_connections) return;
  ngtcp2_cid original{};
  const ngtcp2_cid* original_dcid = nullptr;
  if (settings_.retry) {
    if (hd.token.len == 0 || hd.token.base[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
      send_retry(from, hd);  // costs one small datagram, no state
      return;
    }
    if (ngtcp2_crypto_verify_retry_token(
            &original, hd.token.base, hd.token.len, secret_.data(), secret_.size(), hd.version,
            from.data(), from.size(), &hd.dcid,
            std::chrono::duration_cast<std::chrono::nanoseconds>(kRetryTokenLifetime).count(),
            now_ns()) != 0) {
      return;  // forged or expired
    }
    original_dcid = &original;
  }
  // Counted and logged by the service; a flood costs a lookup, not a handshake.
  if (!service_.allow_connection(from)) return;
  auto session = tls_->server_session();
  if (!session) return;
  auto connection = QuicConnection::accept(
      executor_, settings_.side, settings_.engine, std::move(*session), {local_, from}, hd,
      original_dcid, secret_, *this,
      [this](QuicConnection& routed, const ngtcp2_cid& cid, bool added) {
        route(cid, &routed, added);
      },
      logger_);
  if (!connection) return;
  // The client keeps using its first destination id until our Initial arrives.
  (*connection)->add_connection_id_alias(hd.dcid);
  (*connection)->receive({local_, from}, datagram);
  ++connections_;
  connections_group_.spawn(serve(std::move(*connection), from));
}

void QuicListener::route(const ngtcp2_cid& cid, QuicConnection* connection, bool added) {
  const std::string key = key_of(cid.data, cid.datalen);
  if (added) {
    by_connection_id_[key] = connection;
    return;
  }
  auto it = by_connection_id_.find(key);
  if (it != by_connection_id_.end() && it->second == connection) by_connection_id_.erase(it);
}

void QuicListener::send_retry(const udp::endpoint& to, const ngtcp2_pkt_hd& hd) {
  ngtcp2_cid scid{};
  scid.datalen = kConnectionIdLength;
  (void)gnutls_rnd(GNUTLS_RND_NONCE, scid.data, scid.datalen);
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN> token;
  const ngtcp2_ssize token_length =
      ngtcp2_crypto_generate_retry_token(token.data(), secret_.data(), secret_.size(), hd.version,
                                         to.data(), to.size(), &scid, &hd.dcid, now_ns());
  if (token_length < 0) return;
  std::array<std::uint8_t, QuicEngine::kMaxDatagram> packet;
  const ngtcp2_ssize n =
      ngtcp2_crypto_write_retry(packet.data(), packet.size(), hd.version, &hd.scid, &scid, &hd.dcid,
                                token.data(), static_cast<std::size_t>(token_length));
  if (n <= 0) return;
  send({local_, to}, {packet.data(), static_cast<std::size_t>(n)}, static_cast<std::size_t>(n));
  ++retries_sent_;
}

void QuicListener::send_version_negotiation(const udp::endpoint& to,
                                            const ngtcp2_version_cid& cid) {
  std::array<std::uint8_t, QuicEngine::kMaxDatagram> packet;
  std::uint8_t unused = 0;
  (void)gnutls_rnd(GNUTLS_RND_NONCE, &unused, 1);
  const std::uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
  const ngtcp2_ssize n =
      ngtcp2_pkt_write_version_negotiation(packet.data(), packet.size(), unused, cid.scid,
                                           cid.scidlen, cid.dcid, cid.dcidlen, versions, 1);
  if (n > 0) {
    send({local_, to}, {packet.data(), static_cast<std::size_t>(n)}, static_cast<std::size_t>(n));
  }
}

void QuicListener::send(const UdpPath& path, std::span<const std::uint8_t> data,
                        std::size_t segment_size) {
  if (closed_) return;
  if (!send_datagrams(socket_, &path.remote, data, segment_size, offload_)) ++send_dropped_;
}

Task<void> QuicListener::serve(std::unique_ptr<QuicConnection> connection, udp::endpoint from) {
  co_await service_.serve(std::move(connection), from);
  --connections_;
  connections_changed_.notify();
}

Task<void> QuicListener::close() {
  accepting_ = false;
  while (connections_ > 0) co_await connections_changed_.wait();
  co_await connections_group_.join();
  closed_ = true;
  error_code ignored;
  socket_.close(ignored);
}

}  // namespace dialback::quic
