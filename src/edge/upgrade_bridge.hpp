// The edge's half of an upgraded public connection (WebSocket): once the
// tunnel answered 200 to the extended CONNECT that PublicHttpServer opened
// for an `Upgrade: websocket` request (http1/upgrade.hpp), the public
// connection stops being HTTP and becomes a byte relay to the tunnel stream.
#pragma once

#include <string>

#include "core/asio.hpp"
#include "tunnel/stream_relay.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::edge {

struct UpgradeOutcome {
  bool switched = false;  // the 101 went out; the connection is a relay since
  RelayResult relay;      // what the relay moved, and its first failure
};

// Called by PublicHttpServer::forward on the connection's executor, after a
// 200 on the extended CONNECT. Writes `HTTP/1.1 101 Switching Protocols` with
// the tunnel response's headers and `Upgrade: <protocol>`, then relays bytes
// between `stream` and `tunnel` until both directions end, starting with the
// bytes `buffer` holds past the request head. A failure resets `tunnel`.
// The connection carries no more HTTP afterwards: the caller closes it.
// Instantiated for PlainStream and TlsStream (public_stream.hpp).
template <class Stream>
Task<UpgradeOutcome> bridge_upgrade(Stream& stream, beast::flat_buffer& buffer,
                                    TunnelStream& tunnel, ResponseHead response,
                                    std::string protocol);

}  // namespace dialback::edge
