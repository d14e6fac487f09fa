#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "tls/context_setup.hpp"
#include "tls/file_io.hpp"
#include "tls/openssl_error.hpp"
#include "tls/tls_context.hpp"

namespace dialback {
namespace {

// Needed once peers are verified: OpenSSL refuses to resume sessions whose
// context id is unset.
constexpr unsigned char kSessionIdContext[] = "dialback";

}  // namespace

Result<asio::ssl::context> make_server_context(const ServerTlsPem& pem, AlpnSet alpn) {
  if (!is_server_alpn(alpn)) return fail(std::make_error_code(std::errc::invalid_argument));
  auto ctx = new_tls_context(TLS_server_method());
  if (!ctx) return ctx;
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (auto loaded = use_certificate_and_key(*ctx, pem.cert_pem, pem.key_pem); !loaded) {
    return fail(loaded.error());
  }
  if (pem.client_ca_pem) {
    if (auto trusted = trust_certificates(*ctx, *pem.client_ca_pem, true); !trusted) {
      return fail(trusted.error());
    }
    // Request a certificate, verify it when presented, accept its absence.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_session_id_context(native, kSessionIdContext,
                                       sizeof kSessionIdContext - 1) != 1) {
      return fail(take_openssl_error());
    }
  }
  if (auto installed = install_alpn(native, alpn, true); !installed) return fail(installed.error());
  return ctx;
}

Result<asio::ssl::context> make_server_context(const ServerTlsFiles& files, AlpnSet alpn) {
  ServerTlsPem pem;
  auto cert = read_small_file(files.cert);
  if (!cert) return fail(cert.error());
  pem.cert_pem = std::move(*cert);
  auto key = read_small_file(files.key);
  if (!key) return fail(key.error());
  pem.key_pem = std::move(*key);
  if (files.client_ca) {
    auto ca = read_small_file(*files.client_ca);
    if (!ca) return fail(ca.error());
    pem.client_ca_pem = std::move(*ca);
  }
  auto ctx = make_server_context(pem, alpn);
  OPENSSL_cleanse(pem.key_pem.data(), pem.key_pem.size());
  return ctx;
}

}  // namespace dialback
