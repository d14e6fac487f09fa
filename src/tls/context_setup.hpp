// Pieces shared by the server and client context builders (internal to src/tls).
#pragma once

#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"

namespace dialback {

// A fresh context for `method` (TLS_server_method / TLS_client_method) with
// the common settings: TLS 1.2 minimum, no compression or renegotiation,
// no password prompt for encrypted keys.
Result<asio::ssl::context> new_tls_context(const SSL_METHOD* method);

// Loads a PEM certificate chain and the matching private key.
Result<void> use_certificate_and_key(asio::ssl::context& ctx, std::string_view cert_pem,
                                     std::string_view key_pem);

// Trusts every certificate in the PEM bundle (at least one). With
// `advertise_to_clients`, also lists their subjects in the server's
// CertificateRequest so clients can pick a matching certificate.
Result<void> trust_certificates(asio::ssl::context& ctx, std::string_view pem,
                                bool advertise_to_clients);

}  // namespace dialback
