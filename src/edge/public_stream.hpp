// The two stream types a public HTTP/1.1 connection runs on: plain TCP and
// TLS over TCP. Both keep Beast's per-operation expiry on the lowest layer.
#pragma once

#include "core/asio.hpp"

namespace dialback::edge {

using PlainStream = beast::tcp_stream;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

}  // namespace dialback::edge
