// One scale measurement: embedded agent::Agents open `sessions` sessions to
// one edge (the real agent code: Agents of `batch` connection slots each,
// started one after another once the previous batch is registered, so that
// at most `batch` TLS handshakes are in flight, as when agents arrive over
// time rather than all in the same millisecond), and the edge's resident
// memory is sampled from /proc before, with every session registered, and
// after every session has closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <sys/types.h>
#include "config/agent_config.hpp"

#include "core/asio.hpp"
#include "core/logging.hpp"

namespace dialback::bench {

struct ScaleOptions {
  std::string host;         // the edge's agent listener
  std::uint16_t port = 0;
  std::string server_name;  // TLS name of the edge certificate
  std::string ca;           // CA bundle that verifies it
  std::string tunnel;
  std::string token;
  AgentTransport transport = AgentTransport::h2;  // h2 or h3 (same port number, TCP or UDP)
  int sessions = 1000;
  int batch = 100;
  pid_t edge_pid = 0;
  std::chrono::seconds timeout{120};  // for registering every session, and again for closing
};

struct ScaleResult {
  bool registered_all = false;
  bool closed_all = false;
  int registered = 0;
  long edge_rss_start_kib = 0;
  long edge_rss_sessions_kib = 0;
  long edge_rss_after_kib = 0;
  long self_rss_start_kib = 0;     // this process, before the agent starts
  long self_rss_sessions_kib = 0;  // with every session registered
  double register_seconds = 0;     // start() until every session is registered
  double close_seconds = 0;        // shutdown() until the edge holds none of them
};

Task<ScaleResult> run_scale(asio::any_io_executor executor, const ScaleOptions& options,
                            Logger logger);

}  // namespace dialback::bench
