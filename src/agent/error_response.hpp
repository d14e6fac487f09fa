// The agent's own answers on a tunnel stream (no local service involved,
// or it failed): a short text/plain body and `Dialback-Error: <status>`.
#pragma once

#include <string>

#include "core/asio.hpp"
#include "tunnel/incoming_stream.hpp"

namespace dialback::agent {

// Responds `status` with `message` (a newline is added) as the body. Does
// nothing more when the stream already failed.
Task<void> respond_error(IncomingStream& stream, int status, std::string message);

}  // namespace dialback::agent
