// The DevTunnel wire (docs/devtunnel.md): header names, and the two
// conversions its client relies on. A public request travels to the client
// as the raw bytes of an HTTP/1.1 request (Content-Length, Connection:
// close), which the client writes to its local app; the app's raw response
// comes back as bytes, which are parsed into a response head and a whole
// body. Pure functions.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "tunnel/message.hpp"

namespace dialback::devtunnel {

inline constexpr std::string_view kUserId = "X-Tunnel-User-Id";
inline constexpr std::string_view kClientVersion = "X-Tunnel-Client-Version";
inline constexpr std::string_view kPreferredPort = "X-Tunnel-Preferred-Port";
inline constexpr std::string_view kServerPort = "X-Tunnel-Server-Port";
inline constexpr std::string_view kRequestId = "X-Tunnel-Request-Id";
inline constexpr std::string_view kRequest = "X-Tunnel-Request";
inline constexpr std::string_view kStatus = "X-Tunnel-Status";

// A user id a client may register: 1-256 printable ASCII characters (the
// client's own form is "user@host:port#random"); it appears in logs and
// on the status page.
bool is_valid_user_id(std::string_view id);

// "GET /path?q HTTP/1.1": what X-Tunnel-Request shows.
std::string request_line(const RequestHead& head);

// The raw HTTP/1.1 request the client hands to its app: the request line,
// Host (the public authority), the end-to-end headers of `head`,
// Content-Length and Connection: close, then `body` (moved in, not copied).
std::string raw_request(const RequestHead& head, std::string body);

struct RawResponse {
  ResponseHead head;  // end-to-end headers; Content-Length set to the body's size
  std::string body;   // decoded (a chunked answer is de-chunked)
};

// Parses what the app answered, read until it closed: a status line,
// headers, and a body framed by Content-Length, chunked coding, or the end
// of the bytes. Fails with the reason when it is no HTTP/1.x response or
// its body exceeds `max_body`. `method` decides whether a body can follow.
tl::expected<RawResponse, std::string> parse_raw_response(std::string_view raw,
                                                          std::string_view method,
                                                          std::uint64_t max_body);

// A fresh request id in the UUID form DevTunnel uses (random, version 4).
std::string new_request_id(std::mt19937_64& random);

}  // namespace dialback::devtunnel
