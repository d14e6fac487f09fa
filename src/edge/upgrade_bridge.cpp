#include "edge/upgrade_bridge.hpp"

#include "edge/public_stream.hpp"
#include "http1/upgrade.hpp"

namespace dialback::edge {

template <class Stream>
Task<UpgradeOutcome> bridge_upgrade(Stream& stream, beast::flat_buffer& buffer,
                                    TunnelStream& tunnel, ResponseHead response,
                                    std::string protocol) {
  UpgradeOutcome outcome;
  http::response<http::empty_body> switching;
  switching.version(11);
  http1::apply_switching_protocols(response, protocol, switching.base());
  error_code ec;
  co_await http::async_write(stream, switching, nothrow(ec));
  if (ec) {
    tunnel.reset(Error::cancelled);
    outcome.relay.error = ec;
    co_return outcome;
  }
  outcome.switched = true;
  // Bytes the client sent right behind its request head belong to the relay.
  std::string pending = beast::buffers_to_string(buffer.data());
  buffer.consume(buffer.size());
  outcome.relay = co_await relay_bytes(stream, tunnel, std::move(pending));
  co_return outcome;
}

template Task<UpgradeOutcome> bridge_upgrade(PlainStream&, beast::flat_buffer&, TunnelStream&,
                                             ResponseHead, std::string);
template Task<UpgradeOutcome> bridge_upgrade(TlsStream&, beast::flat_buffer&, TunnelStream&,
                                             ResponseHead, std::string);

}  // namespace dialback::edge
