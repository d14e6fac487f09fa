// The H2Connection options of a tunnel session, from the settings every
// transport shares.
#pragma once

#include "transport/h2/h2_connection.hpp"
#include "transport/session_settings.hpp"

namespace dialback::h2 {

// Client role: the edge's side, opening streams. Server role: the agent's
// side, strict toward the edge as toward any HTTP/2 client (late frames on
// closed streams get STREAM_CLOSED, decreasing stream ids are refused): an
// agent has a handful of sessions, so their closed streams cost little.
inline H2Connection::Options tunnel_options(Role role, PrefaceMode preface,
                                            const SessionSettings& settings) {
  H2Connection::Options options;
  options.role = role;
  options.preface = preface;
  options.liveness = {settings.ping_interval, settings.ping_timeout};
  options.h2.stream_window = settings.windows.stream;
  options.h2.connection_window = settings.windows.connection;
  options.h2.max_header_list_size = static_cast<std::uint32_t>(settings.max_header_bytes);
  options.h2.strict = role == Role::server;
  return options;
}

}  // namespace dialback::h2
