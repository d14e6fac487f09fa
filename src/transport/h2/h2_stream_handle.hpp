// Coroutine-facing handles on one HTTP/2 stream: H2TunnelStream (edge,
// client role) and H2IncomingStream (agent, server role), the engine
// stream handles of transport/engine_stream_handle.hpp over H2StreamState.
#pragma once

#include <cstdint>

#include "transport/engine_stream_handle.hpp"
#include "transport/h2/h2_stream_state.hpp"

namespace dialback::h2 {

// The RST_STREAM code that tells the peer why a stream was given up.
std::uint32_t stream_error_code(const H2StreamState& stream, Error reason);

using H2TunnelStream = EngineTunnelStream<H2StreamState>;
using H2IncomingStream = EngineIncomingStream<H2StreamState>;

}  // namespace dialback::h2

namespace dialback {
extern template class EngineStreamHandle<TunnelStream, h2::H2StreamState>;
extern template class EngineStreamHandle<IncomingStream, h2::H2StreamState>;
extern template class EngineTunnelStream<h2::H2StreamState>;
extern template class EngineIncomingStream<h2::H2StreamState>;
}  // namespace dialback
