// Converting OpenSSL's thread-local error queue into std::error_code.
#pragma once

#include <system_error>

namespace dialback {

// The most recent OpenSSL error as an error code in Asio's SSL category (so
// that message() gives OpenSSL's reason text), and clears the queue so that
// stale errors cannot leak into later TLS operations on this thread. When
// the queue is empty, returns std::errc::protocol_error.
std::error_code take_openssl_error();

}  // namespace dialback
