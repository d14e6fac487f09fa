#include "tls/context_setup.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tls/openssl_error.hpp"
#include "tls/openssl_handles.hpp"

namespace dialback {
namespace {

// Encrypted keys fail to load instead of prompting on a terminal.
int no_password(char*, int, int, void*) noexcept { return 0; }

BioPtr memory_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
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

Result<void> use_certificate_and_key(asio::ssl::context& ctx, std::string_view cert_pem,
                                     std::string_view key_pem) {
  boost::system::error_code ec;
  ctx.use_certificate_chain(asio::buffer(cert_pem.data(), cert_pem.size()), ec);
  if (ec) return fail(ec);
  ctx.use_private_key(asio::buffer(key_pem.data(), key_pem.size()), asio::ssl::context::pem, ec);
  if (ec) return fail(ec);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) return fail(take_openssl_error());
  return {};
}

Result<void> trust_certificates(asio::ssl::context& ctx, std::string_view pem,
                                bool advertise_to_clients) {
  SSL_CTX* native = ctx.native_handle();
  BioPtr bio = memory_bio(pem);
  if (!bio) return fail(take_openssl_error());
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  int count = 0;
  ERR_clear_error();
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) return fail(take_openssl_error());
    if (advertise_to_clients && SSL_CTX_add_client_CA(native, cert.get()) != 1) {
      return fail(take_openssl_error());
    }
    ++count;
  }
  // The loop ends with "no start line" at the end of the bundle; anything
  // else (or an empty bundle) is a malformed file.
  const unsigned long last = ERR_peek_last_error();
  if (count == 0 || (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE)) {
    return fail(take_openssl_error());
  }
  ERR_clear_error();
  return {};
}

}  // namespace dialback
