// What the edge-side acceptors share while an agent registers: the
// registration deadline, reading an HTTP/1.1 request head after the bytes
// the listener already read, and recognizing the HTTP/2 preface.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "core/watchdog.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback {

// Closes the connection's socket when connection.deadline passes; disarm
// (or destroy) it before the stream moves into a session.
std::unique_ptr<Watchdog> watch_registration(AgentConnection& connection);

// Reads a request head of at most 16 KiB (no body), starting with
// connection.initial; `buffer` keeps what was read past it.
Task<error_code> read_request_head(AgentConnection& connection, beast::flat_buffer& buffer,
                                   http::request_parser<http::empty_body>& parser);

// Whether `first_bytes` are the HTTP/2 client connection preface: true once
// complete, false once they differ, nullopt while they are a proper prefix.
std::optional<bool> starts_with_http2_preface(std::string_view first_bytes);

}  // namespace dialback
