#include "relay_stats.hpp"

#include <cinttypes>

namespace dialback::loss_relay {

std::string forward_name(const char* protocol, const std::string& listen,
                         const std::string& target) {
  return std::string(protocol) + " " + listen + " -> " + target;
}

void print_udp(std::FILE* out, const std::string& name, Direction direction, const UdpStats& stats,
               std::size_t flows, std::uint64_t flows_total, std::uint64_t rebinds) {
  std::fprintf(out,
               "%s %s: passed=%" PRIu64 " dropped=%" PRIu64 " lost=%" PRIu64 " queue_full=%" PRIu64
               " flow_limit=%" PRIu64 " send_failed=%" PRIu64 " bytes=%" PRIu64
               " flows=%zu flows_total=%" PRIu64 " rebinds=%" PRIu64 "\n",
               name.c_str(), direction_name(direction), stats.passed, stats.dropped(), stats.lost,
               stats.queue_full, stats.flow_limit, stats.send_failed, stats.bytes, flows,
               flows_total, rebinds);
}

void print_tcp(std::FILE* out, const std::string& name, Direction direction, const TcpStats& stats,
               std::size_t connections, std::uint64_t connections_total, std::uint64_t refused,
               std::uint64_t connect_failed) {
  std::fprintf(out,
               "%s %s: segments=%" PRIu64 " lost=%" PRIu64 " fast=%" PRIu64 " rto=%" PRIu64
               " bytes=%" PRIu64 " connections=%zu connections_total=%" PRIu64 " refused=%" PRIu64
               " connect_failed=%" PRIu64 "\n",
               name.c_str(), direction_name(direction), stats.segments, stats.lost, stats.fast,
               stats.rto, stats.bytes, connections, connections_total, refused, connect_failed);
}

}  // namespace dialback::loss_relay
