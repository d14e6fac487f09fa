// Heads from the field lists of HTTP/2 and HTTP/3, which carry the request
// line and status as pseudo-header fields (":method", ":status", ...).
#pragma once

#include "core/result.hpp"
#include "tunnel/message.hpp"

namespace dialback {

// Splits a received header block into pseudo-headers and regular fields,
// reusing `fields` for the regular ones: pass it with std::move (a copy
// costs an allocation per field longer than the small-string buffer).
// Unknown pseudo-headers, a missing :method or :status, or a :status that
// is not three digits fail with Error::protocol_error.
Result<RequestHead> parse_request_fields(HeaderList fields);
Result<ResponseHead> parse_response_fields(HeaderList fields);

}  // namespace dialback
