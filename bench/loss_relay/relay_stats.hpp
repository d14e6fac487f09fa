// Counters of one direction of one --udp or --tcp forward, summed over its
// flows or connections, and the one-line summaries printed on SIGINT,
// SIGTERM and every --stats-every:
//   udp 127.0.0.1:4433 -> 127.0.0.1:4434 up: passed=1795 dropped=205 lost=205 ...
//   tcp 127.0.0.1:8443 -> 127.0.0.1:8444 down: segments=5793 lost=290 fast=287 rto=3 ...
// key=value fields so that scripts can pick them out.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "impairment.hpp"

namespace dialback::loss_relay {

struct UdpStats {
  std::uint64_t passed = 0;       // datagrams delivered
  std::uint64_t bytes = 0;        // their payload bytes
  std::uint64_t lost = 0;         // dropped by --loss
  std::uint64_t queue_full = 0;   // dropped: --queue-bytes already waiting in this direction
  std::uint64_t flow_limit = 0;   // dropped (up only): --max-udp-flows flows already open
  std::uint64_t send_failed = 0;  // the kernel refused the send (buffer full, ICMP error)
  std::uint64_t dropped() const { return lost + queue_full + flow_limit + send_failed; }
};

struct TcpStats {
  std::uint64_t segments = 0;  // segments (of at most 1448 bytes) delivered
  std::uint64_t bytes = 0;
  std::uint64_t lost = 0;  // segments "lost": held back, never dropped
  std::uint64_t fast = 0;  // ... and recovered after --tcp-recovery
  std::uint64_t rto = 0;   // ... after --tcp-rto (nothing followed them in time)
};

// "udp 127.0.0.1:4433 -> 127.0.0.1:4434": how the lines name a forward.
std::string forward_name(const char* protocol, const std::string& listen,
                         const std::string& target);

// `rebinds`: flows moved to a new upstream port (SIGUSR1), on both lines
// like the flow counts, which are not per direction either.
void print_udp(std::FILE* out, const std::string& name, Direction direction, const UdpStats& stats,
               std::size_t flows, std::uint64_t flows_total, std::uint64_t rebinds);
void print_tcp(std::FILE* out, const std::string& name, Direction direction, const TcpStats& stats,
               std::size_t connections, std::uint64_t connections_total, std::uint64_t refused,
               std::uint64_t connect_failed);

}  // namespace dialback::loss_relay
