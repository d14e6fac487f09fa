// ALPN sets for every TLS role in dialback (docs/protocol.md §1).
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

#include "core/result.hpp"

namespace dialback {

inline constexpr std::string_view kAlpnH2 = "h2";
inline constexpr std::string_view kAlpnHttp11 = "http/1.1";

enum class AlpnSet {
  agent_listener,       // server: selects "h2" (rhttp agents) or "http/1.1" (h2 transport)
  public_https,         // server: selects "h2", else "http/1.1"
  h2_transport_client,  // client: offers "http/1.1" (then upgrades, docs/protocol.md §2)
  rhttp_client,         // client: offers "h2"
  none,                 // no ALPN at all (either side)
};

constexpr bool is_server_alpn(AlpnSet set) {
  return set == AlpnSet::agent_listener || set == AlpnSet::public_https || set == AlpnSet::none;
}

constexpr bool is_client_alpn(AlpnSet set) {
  return set == AlpnSet::h2_transport_client || set == AlpnSet::rhttp_client ||
         set == AlpnSet::none;
}

// Installs `set` on `ctx`. Server sets install a selection callback that
// picks the first protocol of the server's preference list that the client
// offered, and continues without ALPN when there is none in common; client
// sets install the offered list. Fails with std::errc::invalid_argument
// when `server` does not match the kind of `set`.
Result<void> install_alpn(SSL_CTX* ctx, AlpnSet set, bool server);

// Offers the protocols of client set `set` on one connection, whatever its
// context offers (each agent transport owns its ALPN).
Result<void> offer_alpn(SSL* ssl, AlpnSet set);

// The protocol selected on a finished handshake; empty when none.
std::string negotiated_alpn(const SSL* ssl);

}  // namespace dialback
