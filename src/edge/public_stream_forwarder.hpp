// PublicStreamForwarder: forwards the request streams of one public
// HTTP/2 or HTTP/3 connection through tunnel streams: request head, body
// and trailers up, response head, body and trailers down, both under flow
// control. Extended CONNECT (RFC 8441 / RFC 9220 WebSocket) is forwarded
// as it came: the tunnel carries the same extended CONNECT.
//
// Malformed requests never reach a tunnel. The protocol libraries reset
// streams whose fields break RFC 9113 §8.2 / RFC 9114 §4.2 (upper-case
// names, connection-specific fields, CR/LF/NUL in values, bad
// pseudo-headers); this class answers 400 when :authority and Host
// disagree or no authority is given, 501 to a plain CONNECT, 413 for bodies
// over public.max_body_bytes.
//
// One per connection, on its executor; forward() runs once per stream and
// the object must outlive every such task.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "edge/request_forwarder.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::edge {

class PublicStreamForwarder {
 public:
  // `alt_svc`: the Alt-Svc value responses carry (public.h3 advertised on
  // HTTPS); empty: none.
  PublicStreamForwarder(RequestForwarder& forwarder, PublicPeer peer, std::string scheme,
                        std::string alt_svc, asio::any_io_executor executor, Logger logger);

  const PublicPeer& peer() const { return peer_; }
  RequestForwarder& forwarder() { return forwarder_; }

  Task<void> forward(std::unique_ptr<IncomingStream> public_stream);

 private:
  Task<void> respond_error(IncomingStream& public_stream, const AccessEntry& entry,
                           http::status status, std::string message, std::string_view outcome,
                           std::optional<int> retry_after = std::nullopt);
  // Adds alt_svc_ unless the service sent its own Alt-Svc.
  void advertise(ResponseHead& head) const;

  RequestForwarder& forwarder_;
  PublicPeer peer_;
  std::string scheme_;
  std::string alt_svc_;
  asio::any_io_executor executor_;
  Logger logger_;
};

}  // namespace dialback::edge
