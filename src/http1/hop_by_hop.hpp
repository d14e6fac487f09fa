// Hop-by-hop header rules (RFC 9110 §7.6.1, RFC 9113 §8.2.2).
#pragma once

#include <string_view>

#include "core/asio.hpp"

namespace dialback::http1 {

// True for headers that never cross a proxy hop: Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade, TE, Proxy-Authenticate.
bool is_hop_by_hop(std::string_view lower_name);

// True when `lower_name` is listed in a Connection header of `fields`.
bool is_named_by_connection(const http::fields& fields, std::string_view lower_name);

}  // namespace dialback::http1
