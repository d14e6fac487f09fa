// Pieces shared by the server and client context builders (internal to src/tls).
#pragma once

#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "tls/tls_context.hpp"

namespace dialback {

// The input of a context that a failure is about, so that the file variants
// can name its key and file; none for failures of the context itself.
enum class TlsInput { none, cert, key, client_ca, ca };

struct TlsSetupFailure {
  std::error_code code;
  TlsInput input = TlsInput::none;
  std::string_view problem;  // what is wrong with the input: "not a usable PEM private key"
};

template <class T = void>
using SetupResult = tl::expected<T, TlsSetupFailure>;

inline tl::unexpected<TlsSetupFailure> setup_failed(std::error_code code,
                                                    TlsInput input = TlsInput::none,
                                                    std::string_view problem = {}) {
  return tl::unexpected(TlsSetupFailure{code, input, problem});
}

// A fresh context for `method` (TLS_server_method / TLS_client_method) with
// the common settings: TLS 1.2 minimum, no compression or renegotiation,
// no password prompt for encrypted keys.
Result<asio::ssl::context> new_tls_context(const SSL_METHOD* method);

// Loads a PEM certificate chain and the matching private key.
SetupResult<> use_certificate_and_key(asio::ssl::context& ctx, std::string_view cert_pem,
                                      std::string_view key_pem);

// Trusts every certificate in the PEM bundle (at least one), which is the
// context's `input` (client_ca or ca). With `advertise_to_clients`, also lists
// their subjects in the server's CertificateRequest so clients can pick a
// matching certificate.
SetupResult<> trust_certificates(asio::ssl::context& ctx, std::string_view pem, TlsInput input,
                                 bool advertise_to_clients);

// The file variants' errors (TlsFilesError): `path` could not be read, or
// holds what `failure` is about.
TlsFilesError describe_read_failure(std::string_view config_section, TlsInput input,
                                    const std::string& path, std::error_code ec);
TlsFilesError describe_setup_failure(std::string_view config_section,
                                     const TlsSetupFailure& failure, const std::string& path);

}  // namespace dialback
