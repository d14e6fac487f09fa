#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/context_setup.hpp"
#include "tls/file_io.hpp"
#include "tls/openssl_error.hpp"
#include "tls/tls_context.hpp"

namespace dialback {
namespace {

// Reads `path` into `out` when it is set; the error names the input and the file.
TlsFilesResult<> read_optional(std::string_view config_section, TlsInput input,
                               const std::optional<std::string>& path,
                               std::optional<std::string>& out) {
  if (!path) return {};
  auto content = read_small_file(*path);
  if (!content) {
    return tl::unexpected(describe_read_failure(config_section, input, *path, content.error()));
  }
  out = std::move(*content);
  return {};
}

// make_client_context(pem), saying which input a failure is about.
SetupResult<asio::ssl::context> build_client_context(const ClientTlsPem& pem, AlpnSet alpn) {
  if (!is_client_alpn(alpn) || pem.cert_pem.has_value() != pem.key_pem.has_value()) {
    return setup_failed(std::make_error_code(std::errc::invalid_argument));
  }
  auto ctx = new_tls_context(TLS_client_method());
  if (!ctx) return setup_failed(ctx.error());
  SSL_CTX* native = ctx->native_handle();
  if (pem.ca_pem) {
    auto trusted = trust_certificates(*ctx, *pem.ca_pem, TlsInput::ca, false);
    if (!trusted) return tl::unexpected(trusted.error());
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    return setup_failed(take_openssl_error());
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (pem.cert_pem) {
    if (auto loaded = use_certificate_and_key(*ctx, *pem.cert_pem, *pem.key_pem); !loaded) {
      return tl::unexpected(loaded.error());
    }
  }
  if (auto installed = install_alpn(native, alpn, false); !installed) {
    return setup_failed(installed.error());
  }
  return std::move(*ctx);
}

std::string path_of(const ClientTlsFiles& files, TlsInput input) {
  switch (input) {
    case TlsInput::ca: return files.ca.value_or("");
    case TlsInput::cert: return files.cert.value_or("");
    case TlsInput::key: return files.key.value_or("");
    default: return {};
  }
}

}  // namespace

Result<asio::ssl::context> make_client_context(const ClientTlsPem& pem, AlpnSet alpn) {
  auto ctx = build_client_context(pem, alpn);
  if (!ctx) return fail(ctx.error().code);
  return std::move(*ctx);
}

Result<asio::ssl::context> make_client_context(const ClientTlsFiles& files, AlpnSet alpn) {
  auto ctx = make_client_context(files, alpn, {});
  if (!ctx) return fail(ctx.error().code);
  return std::move(*ctx);
}

TlsFilesResult<asio::ssl::context> make_client_context(const ClientTlsFiles& files, AlpnSet alpn,
                                                       std::string_view config_section) {
  ClientTlsPem pem;
  auto read = read_optional(config_section, TlsInput::ca, files.ca, pem.ca_pem);
  if (read) read = read_optional(config_section, TlsInput::cert, files.cert, pem.cert_pem);
  if (read) read = read_optional(config_section, TlsInput::key, files.key, pem.key_pem);
  if (!read) return tl::unexpected(std::move(read.error()));
  auto ctx = build_client_context(pem, alpn);
  if (pem.key_pem) OPENSSL_cleanse(pem.key_pem->data(), pem.key_pem->size());
  if (!ctx) {
    const TlsSetupFailure& failure = ctx.error();
    return tl::unexpected(
        describe_setup_failure(config_section, failure, path_of(files, failure.input)));
  }
  return std::move(*ctx);
}

Result<void> prepare_client_stream(asio::ssl::stream<tcp::socket>& stream,
                                   const std::string& server_name) {
  return prepare_client_stream(stream.native_handle(), server_name);
}

Result<void> prepare_client_stream(SSL* ssl, const std::string& server_name) {
  std::string host = server_name;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.find('\0') != std::string::npos) {
    return fail(std::make_error_code(std::errc::invalid_argument));
  }
  boost::system::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  if (!not_ip) {
    // IP literal: SNI must not carry addresses (RFC 6066 §3).
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return fail(take_openssl_error());
    }
    return {};
  }
  // SANs only: the subject CN is never taken as a host name.
  SSL_set_hostflags(ssl,
                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    return fail(take_openssl_error());
  }
  return {};
}

}  // namespace dialback
