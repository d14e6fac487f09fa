// The agent's reversed-HTTP/2 session over a dialed TLS connection, shared
// by the transports that end in one (h2, rhttp).
#pragma once

#include <memory>
#include <string>

#include "core/byte_stream.hpp"
#include "transport/h2/h2_settings.hpp"
#include "transport/session_dialer.hpp"

namespace dialback::h2 {

// HTTP/2 as the server over a dialed connection to `where` ("host:port");
// `initial`: bytes read past the registration.
std::unique_ptr<Session> make_agent_session(std::unique_ptr<ByteStream> io, std::string where,
                                            PrefaceMode preface, std::string initial,
                                            DialRequest request);

}  // namespace dialback::h2
