#include "datagram_batch.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dialback::loss_relay {

ReceiveBatch::ReceiveBatch()
    : storage_(std::make_unique_for_overwrite<std::byte[]>(kSize * kLargestDatagram)) {
  for (int i = 0; i < kSize; ++i) {
    vectors_[i] = iovec{storage_.get() + i * kLargestDatagram, kLargestDatagram};
  }
}

int ReceiveBatch::receive(int fd) {
  for (int i = 0; i < kSize; ++i) {
    auto& header = headers_[i].msg_hdr;
    header = msghdr{};
    header.msg_name = &sources_[i];
    header.msg_namelen = sizeof(sources_[i]);
    header.msg_iov = &vectors_[i];
    header.msg_iovlen = 1;
  }
  const int received = ::recvmmsg(fd, headers_.data(), kSize, MSG_DONTWAIT, nullptr);
  if (received < 0) {
    drained_ = errno == EAGAIN || errno == EWOULDBLOCK;
    return 0;
  }
  drained_ = received < kSize;
  return received;
}

std::span<const std::byte> ReceiveBatch::datagram(int i) const {
  return {storage_.get() + i * kLargestDatagram, headers_[i].msg_len};
}

boost::asio::ip::udp::endpoint ReceiveBatch::source(int i) const {
  boost::asio::ip::udp::endpoint endpoint;
  const auto size = std::min<std::size_t>(headers_[i].msg_hdr.msg_namelen, endpoint.capacity());
  std::memcpy(endpoint.data(), &sources_[i], size);
  endpoint.resize(size);
  return endpoint;
}

void SendBatch::add(std::span<const std::byte> bytes,
                    const boost::asio::ip::udp::endpoint* destination) {
  auto& vector = vectors_[size_];
  vector = iovec{const_cast<std::byte*>(bytes.data()), bytes.size()};
  auto& header = headers_[size_].msg_hdr;
  header = msghdr{};
  if (destination != nullptr) {
    header.msg_name = const_cast<sockaddr*>(destination->data());
    header.msg_namelen = static_cast<socklen_t>(destination->size());
  }
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  ++size_;
}

int SendBatch::send(int fd) {
  if (size_ == 0) return 0;
  const int sent = ::sendmmsg(fd, headers_.data(), static_cast<unsigned>(size_), MSG_DONTWAIT);
  return sent < 0 ? 0 : sent;
}

}  // namespace dialback::loss_relay
