#include "transport/quic/quic_tls.hpp"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <openssl/x509.h>

#include "core/error.hpp"
#include "tls/certificate_names.hpp"

namespace dialback::quic {
namespace {

// TLS 1.3 only (QUIC requires it), without the middlebox compatibility
// mode QUIC forbids (RFC 9001 §8.4).
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

std::string gnutls_failure(const std::string& what, int code) {
  return what + ": " + gnutls_strerror(code);
}

// The server's check of a client certificate, during the handshake: none
// is accepted (a token may be the credential), one that does not verify
// against the client CA fails the handshake, as on the TLS listener.
int verify_client_certificate(gnutls_session_t session) {
  unsigned int count = 0;
  if (gnutls_certificate_get_peers(session, &count) == nullptr || count == 0) return 0;
  unsigned int status = 0;
  if (gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0) {
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  return 0;
}

gnutls_datum_t datum(const std::string& text) {
  return gnutls_datum_t{reinterpret_cast<unsigned char*>(const_cast<char*>(text.data())),
                        static_cast<unsigned>(text.size())};
}

Result<TlsSession> finish_session(gnutls_session_t raw,
                                  gnutls_certificate_credentials_t credentials,
                                  const std::vector<std::string>& alpns) {
  TlsSession session(raw);
  if (gnutls_priority_set_direct(raw, kPriority, nullptr) != 0 ||
      gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, credentials) != 0) {
    return fail(Error::protocol_error);
  }
  std::vector<gnutls_datum_t> protocols;
  for (const auto& alpn : alpns) {
    protocols.push_back({reinterpret_cast<unsigned char*>(const_cast<char*>(alpn.data())),
                         static_cast<unsigned>(alpn.size())});
  }
  if (gnutls_alpn_set_protocols(raw, protocols.data(), static_cast<unsigned>(protocols.size()),
                                GNUTLS_ALPN_MANDATORY) != 0) {
    return fail(Error::protocol_error);
  }
  return session;
}

}  // namespace

tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> QuicTlsCredentials::server(
    const std::string& cert, const std::string& key, const std::string& client_ca,
    std::vector<std::string> alpns) {
  std::unique_ptr<QuicTlsCredentials> made(new QuicTlsCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&made->credentials_); rv != 0) {
    return tl::unexpected(gnutls_failure("QUIC credentials", rv));
  }
  if (int rv = gnutls_certificate_set_x509_key_file(made->credentials_, cert.c_str(), key.c_str(),
                                                    GNUTLS_X509_FMT_PEM);
      rv < 0) {
    return tl::unexpected(gnutls_failure("QUIC certificate " + cert + " / key " + key, rv));
  }
  if (!client_ca.empty()) {
    int rv = gnutls_certificate_set_x509_trust_file(made->credentials_, client_ca.c_str(),
                                                    GNUTLS_X509_FMT_PEM);
    if (rv <= 0) {
      return tl::unexpected(rv < 0 ? gnutls_failure("QUIC client CA " + client_ca, rv)
                                   : "QUIC client CA " + client_ca + ": no certificate in it");
    }
    made->request_client_cert_ = true;
    gnutls_certificate_set_verify_function(made->credentials_, verify_client_certificate);
  }
  made->alpns_ = std::move(alpns);
  return made;
}

tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> QuicTlsCredentials::server_from_pem(
    const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_pem,
    std::vector<std::string> alpns) {
  std::unique_ptr<QuicTlsCredentials> made(new QuicTlsCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&made->credentials_); rv != 0) {
    return tl::unexpected(gnutls_failure("QUIC credentials", rv));
  }
  const gnutls_datum_t cert = datum(cert_pem);
  const gnutls_datum_t key = datum(key_pem);
  if (int rv =
          gnutls_certificate_set_x509_key_mem(made->credentials_, &cert, &key, GNUTLS_X509_FMT_PEM);
      rv < 0) {
    return tl::unexpected(gnutls_failure("QUIC certificate", rv));
  }
  if (!client_ca_pem.empty()) {
    const gnutls_datum_t ca = datum(client_ca_pem);
    if (int rv =
            gnutls_certificate_set_x509_trust_mem(made->credentials_, &ca, GNUTLS_X509_FMT_PEM);
        rv <= 0) {
      return tl::unexpected(rv < 0 ? gnutls_failure("QUIC client CA", rv)
                                   : std::string("QUIC client CA: no certificate in it"));
    }
    made->request_client_cert_ = true;
    gnutls_certificate_set_verify_function(made->credentials_, verify_client_certificate);
  }
  made->alpns_ = std::move(alpns);
  return made;
}

tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> QuicTlsCredentials::client(
    const std::string& ca, const std::string& cert, const std::string& key, std::string alpn) {
  std::unique_ptr<QuicTlsCredentials> made(new QuicTlsCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&made->credentials_); rv != 0) {
    return tl::unexpected(gnutls_failure("QUIC credentials", rv));
  }
  const int trusted = ca.empty() ? gnutls_certificate_set_x509_system_trust(made->credentials_)
                                 : gnutls_certificate_set_x509_trust_file(
                                       made->credentials_, ca.c_str(), GNUTLS_X509_FMT_PEM);
  if (trusted < 0) {
    return tl::unexpected(gnutls_failure("QUIC CA " + (ca.empty() ? "(system)" : ca), trusted));
  }
  if (!cert.empty()) {
    if (int rv = gnutls_certificate_set_x509_key_file(made->credentials_, cert.c_str(), key.c_str(),
                                                      GNUTLS_X509_FMT_PEM);
        rv < 0) {
      return tl::unexpected(gnutls_failure("QUIC client certificate " + cert, rv));
    }
  }
  made->alpns_.push_back(std::move(alpn));
  return made;
}

tl::expected<std::unique_ptr<QuicTlsCredentials>, std::string> QuicTlsCredentials::client_from_pem(
    const std::string& ca_pem, const std::string& cert_pem, const std::string& key_pem,
    std::string alpn) {
  std::unique_ptr<QuicTlsCredentials> made(new QuicTlsCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&made->credentials_); rv != 0) {
    return tl::unexpected(gnutls_failure("QUIC credentials", rv));
  }
  const gnutls_datum_t ca = datum(ca_pem);
  const int trusted = ca_pem.empty() ? gnutls_certificate_set_x509_system_trust(made->credentials_)
                                     : gnutls_certificate_set_x509_trust_mem(
                                           made->credentials_, &ca, GNUTLS_X509_FMT_PEM);
  if (trusted < 0) return tl::unexpected(gnutls_failure("QUIC CA", trusted));
  if (!cert_pem.empty()) {
    const gnutls_datum_t cert = datum(cert_pem);
    const gnutls_datum_t key = datum(key_pem);
    if (int rv = gnutls_certificate_set_x509_key_mem(made->credentials_, &cert, &key,
                                                     GNUTLS_X509_FMT_PEM);
        rv < 0) {
      return tl::unexpected(gnutls_failure("QUIC client certificate", rv));
    }
  }
  made->alpns_.push_back(std::move(alpn));
  return made;
}

QuicTlsCredentials::~QuicTlsCredentials() {
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

Result<TlsSession> QuicTlsCredentials::server_session() const {
  gnutls_session_t raw = nullptr;
  if (gnutls_init(&raw, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA) !=
      0) {
    return fail(Error::protocol_error);
  }
  auto session = finish_session(raw, credentials_, alpns_);
  if (!session) return session;
  if (ngtcp2_crypto_gnutls_configure_server_session(raw) != 0) return fail(Error::protocol_error);
  if (request_client_cert_) {
    // Verified during the handshake when presented (verify_client_certificate).
    gnutls_certificate_server_set_request(raw, GNUTLS_CERT_REQUEST);
  }
  return session;
}

Result<TlsSession> QuicTlsCredentials::client_session(const std::string& server_name) const {
  gnutls_session_t raw = nullptr;
  if (gnutls_init(&raw, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
    return fail(Error::protocol_error);
  }
  auto session = finish_session(raw, credentials_, alpns_);
  if (!session) return session;
  if (ngtcp2_crypto_gnutls_configure_client_session(raw) != 0) return fail(Error::protocol_error);
  // An IP address is verified against the certificate's IP SANs by GnuTLS;
  // SNI only carries DNS names.
  session->get_deleter().verified_name = std::make_unique<std::string>(server_name);
  gnutls_session_set_verify_cert(raw, session->get_deleter().verified_name->c_str(), 0);
  const bool is_dns = server_name.find_first_not_of("0123456789.:") != std::string::npos;
  if (is_dns) {
    gnutls_server_name_set(raw, GNUTLS_NAME_DNS, server_name.data(), server_name.size());
  }
  return session;
}

std::string negotiated_alpn(gnutls_session_t session) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return {};
  return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

std::vector<std::string> verified_peer_names(gnutls_session_t session) {
  unsigned int count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return {};
  unsigned int status = 0;
  if (gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0) return {};
  const unsigned char* der = chain[0].data;
  X509* cert = d2i_X509(nullptr, &der, static_cast<long>(chain[0].size));
  if (cert == nullptr) return {};
  auto names = certificate_names(cert);
  X509_free(cert);
  return names;
}

}  // namespace dialback::quic
