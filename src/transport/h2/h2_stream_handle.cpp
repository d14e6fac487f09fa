#include "transport/h2/h2_stream_handle.hpp"

#include <nghttp2/nghttp2.h>

#include "transport/engine_stream_handle_impl.hpp"
#include "transport/h2/h2_engine.hpp"

namespace dialback::h2 {

std::uint32_t stream_error_code(const H2StreamState& /*stream*/, Error reason) {
  switch (reason) {
    case Error::cancelled:
    case Error::timeout: return NGHTTP2_CANCEL;  // given up on, not broken
    case Error::stream_refused:
    case Error::draining: return NGHTTP2_REFUSED_STREAM;
    case Error::protocol_error:
    case Error::upstream_protocol: return NGHTTP2_PROTOCOL_ERROR;
    default: return NGHTTP2_INTERNAL_ERROR;
  }
}

}  // namespace dialback::h2

namespace dialback {
template class EngineStreamHandle<TunnelStream, h2::H2StreamState>;
template class EngineStreamHandle<IncomingStream, h2::H2StreamState>;
template class EngineTunnelStream<h2::H2StreamState>;
template class EngineIncomingStream<h2::H2StreamState>;
}  // namespace dialback
