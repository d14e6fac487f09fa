// TLS for QUIC: GnuTLS credentials and sessions set up for ngtcp2's crypto
// helper (ngtcp2 0.12 ships a GnuTLS helper, not an OpenSSL one that
// Debian's OpenSSL 3.0 could use). The edge's and the agent's certificate
// files are the same PEM files the TLS listeners use.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gnutls/gnutls.h>

#include "core/result.hpp"

namespace dialback::quic {

// ALPN of the reversed-HTTP/3 transport (docs/protocol.md §10).
inline constexpr std::string_view kAlpnDialbackH3 = "dialback-h3";
// ALPN Reverst agents offer (docs/protocol.md §11).
inline constexpr std::string_view kAlpnReverst = "quic-h3-tunnel";
// Public HTTP/3 (RFC 9114).
inline constexpr std::string_view kAlpnH3 = "h3";

// Also owns the name a client session verifies the server against: GnuTLS
// keeps the pointer, not a copy.
struct SessionDeleter {
  std::unique_ptr<std::string> verified_name;
  void operator()(gnutls_session_t session) const { gnutls_deinit(session); }
};
using TlsSession = std::unique_ptr<std::remove_pointer_t<gnutls_session_t>, SessionDeleter>;

// A certificate (and optionally the CA that client certificates must chain
// to) for the server side, or the CA that verifies the server plus an
// optional client certificate for the client side. Immutable once made;
// sessions made from it share it and must not outlive it.
class QuicTlsCredentials {
 public:
  // Server: `client_ca` empty: client certificates are not requested; else
  // requested, verified when presented, their absence accepted (the same
  // rule as the TLS agent listener). `alpns` in order of preference.
  static tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> server(
      const std::string& cert, const std::string& key, const std::string& client_ca,
      std::vector<std::string> alpns);
  // The same from PEM text (tests, embedding).
  static tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> server_from_pem(
      const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_pem,
      std::vector<std::string> alpns);
  // Client: `ca` empty: the system's roots. `cert`/`key` empty: none.
  static tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> client(
      const std::string& ca, const std::string& cert, const std::string& key, std::string alpn);
  // The same from PEM text; `ca_pem` empty: the system's roots.
  static tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> client_from_pem(
      const std::string& ca_pem, const std::string& cert_pem, const std::string& key_pem,
      std::string alpn);
  ~QuicTlsCredentials();
  QuicTlsCredentials(const QuicTlsCredentials&) = delete;
  QuicTlsCredentials& operator=(const QuicTlsCredentials&) = delete;

  // A server session ready for ngtcp2_crypto_gnutls_configure_server_session's user.
  Result<TlsSession> server_session() const;
  // A client session that verifies the server's certificate against `server_name`.
  Result<TlsSession> client_session(const std::string& server_name) const;

 private:
  QuicTlsCredentials() = default;

  gnutls_certificate_credentials_t credentials_ = nullptr;
  std::vector<std::string> alpns_;
  bool request_client_cert_ = false;
};

// After the handshake: the ALPN protocol both sides agreed on; empty when none.
std::string negotiated_alpn(gnutls_session_t session);
// The names (CN, then DNS SANs) of the peer's certificate when one was
// presented and verified; empty otherwise.
std::vector<std::string> verified_peer_names(gnutls_session_t session);

}  // namespace dialback::quic
