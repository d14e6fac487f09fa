// Conversions between protocol-free heads and HTTP/2 header fields.
#pragma once

#include <vector>

#include <nghttp2/nghttp2.h>

#include "core/result.hpp"
#include "tunnel/message.hpp"

namespace dialback::h2 {

// Replace the contents of `out` with views into `head`, valid while `head`
// lives (nghttp2 copies them on submit). `out` keeps its capacity, so a
// caller that keeps it allocates once, not per head.
void request_fields(const RequestHead& head, std::vector<nghttp2_nv>& out);
void response_fields(const ResponseHead& head, std::string& status_storage,
                     std::vector<nghttp2_nv>& out);
void plain_fields(const HeaderList& headers, std::vector<nghttp2_nv>& out);

}  // namespace dialback::h2
