// recvmmsg(2) and sendmmsg(2) with their arrays: one system call for up to
// kSize datagrams. On this VM a system call costs microseconds, and one
// per datagram each way kept the relay well under 1 Gbit/s of 1200-byte
// datagrams; batches get there (README.md has the numbers).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include <boost/asio/ip/udp.hpp>

namespace dialback::loss_relay {

class ReceiveBatch {
 public:
  static constexpr int kSize = 64;
  static constexpr std::size_t kLargestDatagram = 65536;

  ReceiveBatch();
  // Receives up to kSize datagrams waiting on `fd`, without blocking: how
  // many (0 when none waits, or on an error such as a reported ICMP error).
  int receive(int fd);
  // The last receive() emptied the socket's queue. Otherwise more may be
  // waiting, and an edge-triggered readiness wait would not report them
  // until the next datagram arrives: read again instead.
  bool drained() const { return drained_; }
  std::span<const std::byte> datagram(int i) const;
  boost::asio::ip::udp::endpoint source(int i) const;

 private:
  // Not zeroed, so pages are touched only as far as datagrams fill them:
  // 4 MiB of address space, a few KiB resident for QUIC-sized datagrams.
  std::unique_ptr<std::byte[]> storage_;
  std::array<mmsghdr, kSize> headers_{};
  std::array<iovec, kSize> vectors_{};
  std::array<sockaddr_storage, kSize> sources_{};
  bool drained_ = false;
};

class SendBatch {
 public:
  static constexpr int kSize = 64;

  void clear() { size_ = 0; }
  bool full() const { return size_ == kSize; }
  int size() const { return size_; }
  // `bytes` must stay valid until send(); `destination` too (null: the
  // socket is connected).
  void add(std::span<const std::byte> bytes, const boost::asio::ip::udp::endpoint* destination);
  // Sends them in order without blocking: how many went out. Fewer than
  // size(): the next one failed (a full send buffer, an ICMP error), and
  // none after it was tried.
  int send(int fd);

 private:
  int size_ = 0;
  std::array<mmsghdr, kSize> headers_{};
  std::array<iovec, kSize> vectors_{};
};

}  // namespace dialback::loss_relay
