// The ngtcp2 and nghttp3 callbacks of QuicEngine: they translate stream
// ids between the two libraries (QuicEngine::translate_id), keep the
// registration stream away from nghttp3, and turn library events into
// stream state and QuicObserver calls. Internal to the engine.
#pragma once

#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>

#include "transport/quic/quic_engine.hpp"

namespace dialback::quic {

// ngtcp2's callbacks for a connection of `side` (client or server ones).
ngtcp2_callbacks quic_callbacks(Side side);
nghttp3_callbacks h3_callbacks();
// The reader nghttp3 pulls a stream's outgoing body from.
nghttp3_data_reader body_reader();

}  // namespace dialback::quic
