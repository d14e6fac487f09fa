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

// make_server_context(pem), saying which input a failure is about.
SetupResult<asio::ssl::context> build_server_context(const ServerTlsPem& pem, AlpnSet alpn) {
  if (!is_server_alpn(alpn)) return setup_failed(std::make_error_code(std::errc::invalid_argument));
  auto ctx = new_tls_context(TLS_server_method());
  if (!ctx) return setup_failed(ctx.error());
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (auto loaded = use_certificate_and_key(*ctx, pem.cert_pem, pem.key_pem); !loaded) {
    return tl::unexpected(loaded.error());
  }
  if (pem.client_ca_pem) {
    auto trusted = trust_certificates(*ctx, *pem.client_ca_pem, TlsInput::client_ca, true);
    if (!trusted) return tl::unexpected(trusted.error());
    // Request a certificate, verify it when presented, accept its absence.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_session_id_context(native, kSessionIdContext,
                                       sizeof kSessionIdContext - 1) != 1) {
      return setup_failed(take_openssl_error());
    }
  }
  if (auto installed = install_alpn(native, alpn, true); !installed) {
    return setup_failed(installed.error());
  }
  return std::move(*ctx);
}

std::string path_of(const ServerTlsFiles& files, TlsInput input) {
  switch (input) {
    case TlsInput::cert: return files.cert;
    case TlsInput::key: return files.key;
    case TlsInput::client_ca: return files.client_ca.value_or("");
    default: return {};
  }
}

}  // namespace

Result<asio::ssl::context> make_server_context(const ServerTlsPem& pem, AlpnSet alpn) {
  auto ctx = build_server_context(pem, alpn);
  if (!ctx) return fail(ctx.error().code);
  return std::move(*ctx);
}

Result<asio::ssl::context> make_server_context(const ServerTlsFiles& files, AlpnSet alpn) {
  auto ctx = make_server_context(files, alpn, {});
  if (!ctx) return fail(ctx.error().code);
  return std::move(*ctx);
}

TlsFilesResult<asio::ssl::context> make_server_context(const ServerTlsFiles& files, AlpnSet alpn,
                                                       std::string_view config_section) {
  const auto unreadable = [&](TlsInput input, const std::string& path, std::error_code ec) {
    return tl::unexpected(describe_read_failure(config_section, input, path, ec));
  };
  ServerTlsPem pem;
  auto cert = read_small_file(files.cert);
  if (!cert) return unreadable(TlsInput::cert, files.cert, cert.error());
  pem.cert_pem = std::move(*cert);
  auto key = read_small_file(files.key);
  if (!key) return unreadable(TlsInput::key, files.key, key.error());
  pem.key_pem = std::move(*key);
  if (files.client_ca) {
    auto ca = read_small_file(*files.client_ca);
    if (!ca) return unreadable(TlsInput::client_ca, *files.client_ca, ca.error());
    pem.client_ca_pem = std::move(*ca);
  }
  auto ctx = build_server_context(pem, alpn);
  OPENSSL_cleanse(pem.key_pem.data(), pem.key_pem.size());
  if (!ctx) {
    const TlsSetupFailure& failure = ctx.error();
    return tl::unexpected(
        describe_setup_failure(config_section, failure, path_of(files, failure.input)));
  }
  return std::move(*ctx);
}

}  // namespace dialback
