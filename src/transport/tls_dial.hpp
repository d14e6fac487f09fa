// The TCP + TLS dial that every TLS-based agent transport starts with:
// resolve (no lookup for an IP literal), connect (directly, or to an HTTP
// proxy that opens a CONNECT tunnel to the edge), verify the edge's
// certificate against the edge's TLS name, offer the transport's ALPN.
#pragma once

#include <chrono>
#include <optional>

#include "config/agent_config.hpp"
#include "config/proxy_url.hpp"
#include "core/byte_stream.hpp"
#include "core/logging.hpp"
#include "core/watchdog.hpp"
#include "tls/alpn.hpp"
#include "tls/tls_stream.hpp"
#include "transport/pending_dials.hpp"

namespace dialback {

// A dialed TLS connection and the deadline that still bounds its registration.
struct DialedTls {
  std::unique_ptr<TlsStream> tls;                // heap: the watchdog holds its socket's address
  std::unique_ptr<Watchdog> watchdog;            // closes the socket when the dial timeout passes
  std::unique_ptr<PendingDials::Entry> pending;  // until the session owns the socket
  std::string where;                             // "host:port" for logs

  // The connection as a session's stream: stops the watchdog and leaves
  // the pending list first.
  std::unique_ptr<ByteStream> into_stream();
};

// Dials `edge`, through `proxy` unless it is null; nullopt on failure
// (logged; a proxy's refusal names the proxy). The dial timeout covers the
// proxy's CONNECT too. The watchdog and the pending
// entry stay with the result: the caller's registration is bounded by the
// same timeout and failed by the same shutdown. Release both before the
// stream moves into a session.
Task<std::optional<DialedTls>> dial_tls(asio::any_io_executor executor, asio::ssl::context& tls,
                                        const EdgeTargetConfig& edge, const ProxyUrl* proxy,
                                        AlpnSet alpn, PendingDials* pending, const Logger& logger);

}  // namespace dialback
