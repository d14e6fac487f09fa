// UDP with segmentation offload (Linux): one sendmsg() carries a run of
// equal-sized datagrams (GSO, the UDP_SEGMENT control message) and one
// recvmsg() may return several that arrived back to back (GRO, the UDP_GRO
// socket option), where the kernel supports them; one datagram per call
// where it does not. A bulk QUIC transfer spends most of its time in
// per-datagram system calls without them (docs/benchmarks.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/asio.hpp"

namespace dialback::quic {

using udp = asio::ip::udp;

// Most datagrams one GSO send may carry (the kernel's UDP_MAX_SEGMENTS).
inline constexpr std::size_t kMaxSegments = 64;
// Most bytes one GSO send may carry (one UDP payload).
inline constexpr std::size_t kMaxSegmentBytes = 65000;

// What the kernel accepted on one socket.
struct UdpOffload {
  bool gso = true;   // cleared when the kernel refuses UDP_SEGMENT
  bool gro = false;  // UDP_GRO is on: a receive may return several datagrams
};

// Turns GRO on for `socket` when the kernel has it.
void enable_gro(udp::socket& socket, UdpOffload& offload);

// Sends `data`, datagrams of `segment_size` bytes each (the last may be
// shorter), to `to` (nullptr: the connected peer). False when the socket
// had no room for them: they are dropped, as a loss on the way would drop
// them (QUIC resends what they carried).
bool send_datagrams(udp::socket& socket, const udp::endpoint* to,
                    std::span<const std::uint8_t> data, std::size_t segment_size,
                    UdpOffload& offload);

// Receives into `buffer` (64 KiB fits any GRO batch). Returns the bytes
// read and sets `segment_size`: every `segment_size` bytes start a new
// datagram (the last may be shorter). `from` may be nullptr for a
// connected socket.
std::size_t receive_datagrams(udp::socket& socket, std::span<std::uint8_t> buffer,
                              udp::endpoint* from, std::size_t& segment_size, error_code& ec);

}  // namespace dialback::quic
