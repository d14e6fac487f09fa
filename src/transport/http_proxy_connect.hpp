// The HTTP CONNECT exchange with a forward proxy (RFC 9110 §9.3.6), before
// the agent's TLS handshake with the edge goes through the tunnel it opens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "config/proxy_url.hpp"
#include "core/asio.hpp"

namespace dialback {

// Asks the proxy that `socket` is connected to for a tunnel to host:port,
// with Basic credentials when the proxy URL has a user. Succeeds on a 2xx
// answer; otherwise the error says what the proxy answered (naming the
// proxy, and for 407 whether credentials were sent). A response head over
// 16 KiB, or bytes after it (the edge has not been spoken to yet), fail.
Task<tl::expected<void, std::string>> http_proxy_connect(tcp::socket& socket, const ProxyUrl& proxy,
                                                         std::string_view host, std::uint16_t port);

}  // namespace dialback
