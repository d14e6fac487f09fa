// Coroutine-facing handles on one HTTP/3 request stream: H3TunnelStream
// (edge) and H3IncomingStream (agent), the engine stream handles of
// transport/engine_stream_handle.hpp over H3StreamState.
#pragma once

#include <cstdint>

#include "transport/engine_stream_handle.hpp"
#include "transport/quic/h3_stream_state.hpp"

namespace dialback::quic {

// The HTTP/3 error code that tells the peer why a stream was given up.
std::uint64_t stream_error_code(const H3StreamState& stream, Error reason);

using H3TunnelStream = EngineTunnelStream<H3StreamState>;
using H3IncomingStream = EngineIncomingStream<H3StreamState>;

}  // namespace dialback::quic

namespace dialback {
extern template class EngineStreamHandle<TunnelStream, quic::H3StreamState>;
extern template class EngineStreamHandle<IncomingStream, quic::H3StreamState>;
extern template class EngineTunnelStream<quic::H3StreamState>;
extern template class EngineIncomingStream<quic::H3StreamState>;
}  // namespace dialback
