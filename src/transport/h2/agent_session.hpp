// The agent's reversed-HTTP/2 session over a dialed TLS connection, shared
// by the transports that end in one (h2, rhttp).
#pragma once

#include <memory>
#include <string>

#include "transport/h2/h2_settings.hpp"
#include "transport/session_dialer.hpp"
#include "transport/tls_dial.hpp"

namespace dialback::h2 {

// Stops the dial's watchdog, then runs HTTP/2 as the server over the
// connection; `initial`: bytes read past the registration.
std::unique_ptr<Session> make_agent_session(DialedTls dialed, PrefaceMode preface,
                                            std::string initial, DialRequest request);

}  // namespace dialback::h2
