#include "tls/context_setup.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/openssl_error.hpp"
#include "tls/openssl_handles.hpp"

namespace dialback {
namespace {

// Encrypted keys fail to load instead of prompting on a terminal.
int no_password(char*, int, int, void*) noexcept { return 0; }

BioPtr memory_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string_view input_name(TlsInput input) {
  switch (input) {
    case TlsInput::none: break;
    case TlsInput::cert: return "cert";
    case TlsInput::key: return "key";
    case TlsInput::client_ca: return "client_ca";
    case TlsInput::ca: return "ca";
  }
  return {};
}

std::string config_key(std::string_view config_section, TlsInput input) {
  std::string key(config_section);
  if (!key.empty()) key += '.';
  key += input_name(input);
  return key;
}

}  // namespace

Result<asio::ssl::context> new_tls_context(const SSL_METHOD* method) {
  ERR_clear_error();
  SSL_CTX* native = SSL_CTX_new(method);
  if (native == nullptr) return fail(take_openssl_error());
  asio::ssl::context ctx(native);  // owns `native` from here on
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return fail(take_openssl_error());
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Asio owns the callback userdata slot; leave it null.
  SSL_CTX_set_default_passwd_cb(native, &no_password);
  return ctx;
}

SetupResult<> use_certificate_and_key(asio::ssl::context& ctx, std::string_view cert_pem,
                                      std::string_view key_pem) {
  boost::system::error_code ec;
  ctx.use_certificate_chain(asio::buffer(cert_pem.data(), cert_pem.size()), ec);
  if (ec) return setup_failed(ec, TlsInput::cert, "not a usable PEM certificate chain");
  ctx.use_private_key(asio::buffer(key_pem.data(), key_pem.size()), asio::ssl::context::pem, ec);
  // OpenSSL 3 checks the key against the certificate here already.
  const auto packed = static_cast<unsigned long>(ec.value());
  if (ec && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_LIB(packed) == ERR_LIB_X509 && ERR_GET_REASON(packed) == X509_R_KEY_VALUES_MISMATCH) {
    return setup_failed(ec, TlsInput::key, "does not match the certificate");
  }
  if (ec) return setup_failed(ec, TlsInput::key, "not a usable PEM private key");
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return setup_failed(take_openssl_error(), TlsInput::key, "does not match the certificate");
  }
  return {};
}

SetupResult<> trust_certificates(asio::ssl::context& ctx, std::string_view pem, TlsInput input,
                                 bool advertise_to_clients) {
  constexpr std::string_view kProblem = "not a usable PEM CA bundle";
  SSL_CTX* native = ctx.native_handle();
  BioPtr bio = memory_bio(pem);
  if (!bio) return setup_failed(take_openssl_error());
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  int count = 0;
  ERR_clear_error();
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) {
      return setup_failed(take_openssl_error(), input, kProblem);
    }
    if (advertise_to_clients && SSL_CTX_add_client_CA(native, cert.get()) != 1) {
      return setup_failed(take_openssl_error(), input, kProblem);
    }
    ++count;
  }
  // The loop ends with "no start line" at the end of the bundle; anything
  // else (or an empty bundle) is a malformed file.
  const unsigned long last = ERR_peek_last_error();
  if (count == 0 || (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE)) {
    return setup_failed(take_openssl_error(), input, kProblem);
  }
  ERR_clear_error();
  return {};
}

TlsFilesError describe_read_failure(std::string_view config_section, TlsInput input,
                                    const std::string& path, std::error_code ec) {
  return {ec, config_key(config_section, input) + ": cannot read " + path + ": " + ec.message()};
}

TlsFilesError describe_setup_failure(std::string_view config_section,
                                     const TlsSetupFailure& failure, const std::string& path) {
  const std::string reason = failure.code.message();
  if (failure.input == TlsInput::none) {
    // Not about one file (OpenSSL itself, ALPN): the section says which context.
    const std::string where = config_section.empty() ? "TLS" : std::string(config_section) + " TLS";
    return {failure.code, where + ": " + reason};
  }
  return {failure.code, config_key(config_section, failure.input) + ": " + path + ": " +
                            std::string(failure.problem) + " (" + reason + ")"};
}

}  // namespace dialback
