// The DevTunnel front end's status page (GET /status): an HTML table of its
// users, as DevTunnel's own server shows them. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace dialback::edge {

struct DevTunnelUserRow {
  std::string user_id;
  std::uint16_t port = 0;
  std::size_t open_requests = 0;     // waiting for a poll
  std::size_t open_connections = 0;  // handed to the client, not answered yet
  std::size_t active_polls = 0;
  std::uint64_t total_requests = 0;
  std::uint64_t total_errors = 0;
  std::chrono::system_clock::time_point first_seen;
  std::chrono::system_clock::time_point last_seen;
  bool active = false;  // seen within offline_after
};

// Active users first (by id), then the others, most recently seen first.
// Every value is HTML-escaped.
std::string devtunnel_status_page(std::vector<DevTunnelUserRow> rows);

}  // namespace dialback::edge
