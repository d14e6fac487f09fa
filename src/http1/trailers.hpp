// Trailer fields of HTTP/1.1 chunked bodies, to and from the tunnel's
// HeaderList form (gRPC-web, checksums, server timing sent after the body).
#pragma once

#include <cstddef>

#include "core/asio.hpp"
#include "tunnel/message.hpp"

namespace dialback::http1 {

// The fields a chunked body's trailer section added to `fields` (Beast
// appends them after the `head_fields` fields of the head), lower-cased,
// without those that must never be trailers (RFC 9110 §6.5.1: framing,
// routing, authentication, hop-by-hop).
HeaderList trailer_fields(const http::fields& fields, std::size_t head_fields);

// The trailer section of a last chunk, with the same fields left out.
http::fields trailer_section(const HeaderList& trailers);

}  // namespace dialback::http1
