#include "transport/quic/udp_offload.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace dialback::quic {

void enable_gro(udp::socket& socket, UdpOffload& offload) {
  const int on = 1;
  offload.gro = ::setsockopt(socket.native_handle(), IPPROTO_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

namespace {

// One sendmsg(); with `segment_size` below the data's size, as GSO. Returns errno or 0.
int send_once(int fd, const udp::endpoint* to, std::span<const std::uint8_t> data,
              std::size_t segment_size) {
  iovec iov{const_cast<std::uint8_t*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (to != nullptr) {
    msg.msg_name = const_cast<sockaddr*>(to->data());
    msg.msg_namelen = static_cast<socklen_t>(to->size());
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))];
  if (segment_size < data.size()) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = IPPROTO_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto size = static_cast<std::uint16_t>(segment_size);
    std::memcpy(CMSG_DATA(cm), &size, sizeof(size));
  }
  for (;;) {
    if (::sendmsg(fd, &msg, MSG_DONTWAIT) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

bool send_datagrams(udp::socket& socket, const udp::endpoint* to,
                    std::span<const std::uint8_t> data, std::size_t segment_size,
                    UdpOffload& offload) {
  const int fd = socket.native_handle();
  if (segment_size >= data.size()) return send_once(fd, to, data, segment_size) == 0;
  if (offload.gso) {
    const int error = send_once(fd, to, data, segment_size);
    if (error == 0) return true;
    if (error != EIO && error != EINVAL && error != ENOPROTOOPT && error != EOPNOTSUPP) {
      return false;  // EAGAIN, ENOBUFS, ECONNREFUSED, ...: dropped
    }
    offload.gso = false;  // the kernel or the device cannot segment: one by one from now on
  }
  bool all = true;
  for (std::size_t at = 0; at < data.size(); at += segment_size) {
    const std::size_t n = std::min(segment_size, data.size() - at);
    all = send_once(fd, to, data.subspan(at, n), n) == 0 && all;
  }
  return all;
}

std::size_t receive_datagrams(udp::socket& socket, std::span<std::uint8_t> buffer,
                              udp::endpoint* from, std::size_t& segment_size, error_code& ec) {
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (from != nullptr) {
    msg.msg_name = from->data();
    msg.msg_namelen = static_cast<socklen_t>(from->capacity());
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = -1;
  do {
    n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ec = errno == EAGAIN || errno == EWOULDBLOCK
             ? make_error_code(asio::error::would_block)
             : error_code(errno, boost::system::system_category());
    return 0;
  }
  ec = {};
  if (from != nullptr) from->resize(msg.msg_namelen);
  segment_size = static_cast<std::size_t>(n);
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level == IPPROTO_UDP && cm->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(cm), sizeof(size));
      if (size > 0) segment_size = static_cast<std::size_t>(size);
    }
  }
  return static_cast<std::size_t>(n);
}

}  // namespace dialback::quic
