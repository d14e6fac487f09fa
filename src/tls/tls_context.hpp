// TLS contexts for Boost.Asio streams and TlsStream: the edge's listeners (server) and the
// agent's dialers (client). Every context: TLS 1.2 minimum, no compression,
// no renegotiation, encrypted private keys refused (never a terminal prompt).
//
// Each context comes from files (production) or PEM text (tests, embedding);
// the file variants read the files and then behave exactly like the PEM ones.
// Errors are std::error_code: std::errc for file and argument problems,
// Asio's SSL category (OpenSSL reason text) for certificate/key problems.
// The file variants with a config section add a sentence naming the input
// that failed by its config key and its file (TlsFilesError).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "tls/alpn.hpp"

namespace dialback {

struct ServerTlsFiles {
  std::string cert;                      // PEM chain: leaf first
  std::string key;                       // PEM private key
  std::optional<std::string> client_ca;  // PEM CA bundle for client certificates
};

struct ServerTlsPem {
  std::string cert_pem;
  std::string key_pem;
  std::optional<std::string> client_ca_pem;
};

struct ClientTlsFiles {
  std::optional<std::string> ca;    // trusted CAs; system default paths when absent
  std::optional<std::string> cert;  // client certificate chain (with key)
  std::optional<std::string> key;
};

struct ClientTlsPem {
  std::optional<std::string> ca_pem;
  std::optional<std::string> cert_pem;
  std::optional<std::string> key_pem;
};

// A context from files that could not be made. The code is the one the
// two-argument variants return; the detail names the failing input by its
// config key (the config section, a dot, and the input: cert, key, client_ca
// or ca; the bare input when the section is empty) and its file, and says why:
//   "agents.cert: cannot read /etc/dialback/edge.crt: No such file or directory"
//   "agents.key: /etc/dialback/edge.key: not a usable PEM private key (no start line)"
struct TlsFilesError {
  std::error_code code;
  std::string detail;

  // Same spelling as std::error_code::message(), so callers can print either.
  const std::string& message() const { return detail; }
};

template <class T = void>
using TlsFilesResult = tl::expected<T, TlsFilesError>;

// A server context presenting `cert`/`key`. With a client CA, a client
// certificate is requested and, if presented, must chain to that CA or the
// handshake fails; a client without a certificate is still accepted (it may
// authenticate with a token). `alpn` must be a server set (or none).
Result<asio::ssl::context> make_server_context(const ServerTlsFiles& files, AlpnSet alpn);
Result<asio::ssl::context> make_server_context(const ServerTlsPem& pem, AlpnSet alpn);
// The same from files, with an error naming the failing input and its file
// (config_section "agents" gives "agents.cert", "agents.key", "agents.client_ca").
TlsFilesResult<asio::ssl::context> make_server_context(const ServerTlsFiles& files, AlpnSet alpn,
                                                       std::string_view config_section);

// A client context that always verifies the server's chain (against `ca`, or
// the system's default CAs) and optionally presents a client certificate;
// cert and key must be given together. Host name verification is per
// connection: see prepare_client_stream(). `alpn` must be a client set (or none).
Result<asio::ssl::context> make_client_context(const ClientTlsFiles& files, AlpnSet alpn);
Result<asio::ssl::context> make_client_context(const ClientTlsPem& pem, AlpnSet alpn);
// The same from files, with an error naming the failing input and its file
// (an empty config_section gives the agent's top-level keys "ca", "cert", "key").
TlsFilesResult<asio::ssl::context> make_client_context(const ClientTlsFiles& files, AlpnSet alpn,
                                                       std::string_view config_section);

// Call before async_handshake on a client stream. For a DNS name: sends it
// as SNI and requires a DNS SAN of the server certificate to match it (the
// subject CN is never used; wildcards only as a whole leftmost label). For an IP literal
// (brackets allowed for IPv6): no SNI, the certificate must carry it as an
// IP SAN. Fails with std::errc::invalid_argument for an empty name.
Result<void> prepare_client_stream(asio::ssl::stream<tcp::socket>& stream,
                                   const std::string& server_name);
// The same for the SSL of a TlsStream (or any client SSL).
Result<void> prepare_client_stream(SSL* ssl, const std::string& server_name);

}  // namespace dialback
