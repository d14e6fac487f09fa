#include "tls/alpn.hpp"

#include <openssl/ssl.h>

#include "tls/openssl_error.hpp"

namespace dialback {
namespace {

// ALPN wire format: each protocol prefixed by its length byte.
struct WireList {
  const unsigned char* data;
  unsigned int size;
};

constexpr unsigned char kH2ThenHttp11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kH2Only[] = {2, 'h', '2'};
constexpr unsigned char kHttp11Only[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Server preference lists. Static storage: the selection callback's argument
// points here for the lifetime of every SSL_CTX.
constexpr WireList kAgentListenerList{kH2ThenHttp11, sizeof kH2ThenHttp11};
constexpr WireList kPublicHttpsList{kH2ThenHttp11, sizeof kH2ThenHttp11};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) noexcept {
  const auto* preference = static_cast<const WireList*>(arg);
  unsigned char* selected = nullptr;
  unsigned char selected_length = 0;
  if (SSL_select_next_proto(&selected, &selected_length, preference->data, preference->size, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  *outlen = selected_length;
  return SSL_TLSEXT_ERR_OK;
}

void set_server_list(SSL_CTX* ctx, const WireList& list) {
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn,
                             const_cast<void*>(static_cast<const void*>(&list)));
}

Result<void> set_client_list(SSL_CTX* ctx, const unsigned char* data, unsigned int size) {
  if (SSL_CTX_set_alpn_protos(ctx, data, size) != 0) return fail(take_openssl_error());
  return {};
}

}  // namespace

Result<void> install_alpn(SSL_CTX* ctx, AlpnSet set, bool server) {
  if (server ? !is_server_alpn(set) : !is_client_alpn(set)) {
    return fail(std::make_error_code(std::errc::invalid_argument));
  }
  switch (set) {
    case AlpnSet::agent_listener: set_server_list(ctx, kAgentListenerList); return {};
    case AlpnSet::public_https: set_server_list(ctx, kPublicHttpsList); return {};
    case AlpnSet::h2_transport_client: return set_client_list(ctx, kHttp11Only, sizeof kHttp11Only);
    case AlpnSet::rhttp_client: return set_client_list(ctx, kH2Only, sizeof kH2Only);
    case AlpnSet::none: return {};
  }
  return fail(std::make_error_code(std::errc::invalid_argument));
}

Result<void> offer_alpn(SSL* ssl, AlpnSet set) {
  if (!is_client_alpn(set)) return fail(std::make_error_code(std::errc::invalid_argument));
  int failed = 0;
  switch (set) {
    case AlpnSet::h2_transport_client:
      failed = SSL_set_alpn_protos(ssl, kHttp11Only, sizeof kHttp11Only);
      break;
    case AlpnSet::rhttp_client: failed = SSL_set_alpn_protos(ssl, kH2Only, sizeof kH2Only); break;
    default: failed = SSL_set_alpn_protos(ssl, nullptr, 0); break;
  }
  if (failed != 0) return fail(take_openssl_error());
  return {};
}

std::string negotiated_alpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &data, &length);
  return data != nullptr ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

}  // namespace dialback
