#include "transport/quic/h3_stream_handle.hpp"

#include "transport/engine_stream_handle_impl.hpp"
#include "transport/quic/quic_engine.hpp"

namespace dialback::quic {

std::uint64_t stream_error_code(const H3StreamState& /*stream*/, Error reason) {
  switch (reason) {
    case Error::cancelled:
    case Error::timeout: return kH3RequestCancelled;  // given up on, not broken
    case Error::stream_refused:
    case Error::draining: return kH3RequestRejected;
    case Error::protocol_error:
    case Error::upstream_protocol: return kH3MessageError;
    default: return kH3InternalError;
  }
}

}  // namespace dialback::quic

namespace dialback {
template class EngineStreamHandle<TunnelStream, quic::H3StreamState>;
template class EngineStreamHandle<IncomingStream, quic::H3StreamState>;
template class EngineTunnelStream<quic::H3StreamState>;
template class EngineIncomingStream<quic::H3StreamState>;
}  // namespace dialback
