// The agent's half of an upgraded exchange (WebSocket): an extended CONNECT
// stream (RFC 8441, `:protocol` set) becomes an HTTP/1.1 Upgrade to the
// local service on a connection of its own; after the service's 101 the
// stream and that connection are relayed byte for byte.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/logging.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

struct UpgradeTarget {
  std::string base_path;  // prefixed to the request path
  std::string label;      // "host:port" of the local service, for the log
  std::chrono::milliseconds response_timeout{60000};  // for the service's response head
  std::string host_rewrite;  // Host sent to the service; empty: the public one
};

// What went wrong before anything was answered on the stream: the caller
// answers with an error response (502, or 504 for a timeout).
struct UpgradeFailure {
  int status = 502;
  std::string message;
};

// Serves the extended CONNECT `stream` over `connection`, a fresh connection
// to the local service that nothing else uses (never pooled; the caller
// closes it afterwards). Sends `GET <path>` with `Connection: Upgrade`,
// `Upgrade: <protocol>` and the forwarded headers (a websocket request
// without Sec-WebSocket-Key, as RFC 8441 clients send it, gets a fresh key),
// then reads the answer head within target.response_timeout:
//   101   -> responds 200 with the 101's end-to-end headers, then relays
//            bytes both ways until both directions ended (tunnel/stream_relay.hpp);
//   other -> passes it on as a plain response, body streamed (a 2xx is marked
//            declined: http1::kUpgradeMarker).
// Returns the failure to report when nothing could be answered yet; failures
// after the response head reset the stream instead. Runs on the
// connection's executor, the stream's.
Task<std::optional<UpgradeFailure>> forward_upgrade(beast::tcp_stream& connection,
                                                    beast::flat_buffer& buffer,
                                                    IncomingStream& stream, UpgradeTarget target,
                                                    Logger logger);

// Waits until the edge ended its side of `stream` (it does so once it has a
// declined answer's head; after a relay it has already), discarding what it
// sent (at most kRelayChunk bytes, then the stream is reset). Call before
// dropping a stream whose answer was not a switch: dropping a stream with
// an open request side resets it, and a reset can overtake the queued rest
// of the answer.
Task<void> await_request_end(IncomingStream& stream);

}  // namespace dialback::agent
