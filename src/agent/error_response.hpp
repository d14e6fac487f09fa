// The agent's own answers on a tunnel stream (no local service involved,
// or it failed): a short text/plain body and `Dialback-Error: <status>`, or
// for gRPC calls a trailers-only gRPC status that gRPC clients understand.
#pragma once

#include <string>

#include "core/asio.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

// `status` with a text/plain body `message` and Dialback-Error: <status>.
Task<void> respond_error(IncomingStream& stream, int status, std::string message);

// True when the request is a gRPC call (content-type application/grpc...).
bool is_grpc(const RequestHead& request);

// For gRPC calls: HTTP 200 with grpc-status 14 (UNAVAILABLE; 4,
// DEADLINE_EXCEEDED, when `status` is 504) and grpc-message; otherwise as
// respond_error().
Task<void> respond_failure(IncomingStream& stream, int status, std::string message);

}  // namespace dialback::agent
