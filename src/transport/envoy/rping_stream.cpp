#include "transport/envoy/rping_stream.hpp"

#include <algorithm>
#include <cstring>

namespace dialback::envoy {
namespace {

constexpr std::size_t kReadChunk = 4096;

}  // namespace

RpingStream::RpingStream(std::unique_ptr<ByteStream> inner, Mode mode, std::string initial)
    : inner_(std::move(inner)),
      mode_(mode),
      pending_(std::move(initial)),
      keepalive_over_(inner_->executor()) {}

bool RpingStream::consume_rpings() {
  std::size_t offset = 0;
  while (pending_.size() - offset >= kRping.size() &&
         std::string_view(pending_).substr(offset, kRping.size()) == kRping) {
    offset += kRping.size();
    ++rpings_;
    if (mode_ == Mode::echo) ++to_echo_;
  }
  pending_.erase(0, offset);
  // A partial "RPING" may still become one; anything else ends the phase.
  const std::size_t n = std::min(pending_.size(), kRping.size());
  return n > 0 && std::string_view(pending_).substr(0, n) != kRping.substr(0, n);
}

void RpingStream::end_keepalive() {
  keepalive_ = false;
  keepalive_over_.notify();
}

Task<std::size_t> RpingStream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  while (keepalive_) {
    const bool over = consume_rpings();
    if (to_echo_ > 0) {
      std::string echo;
      for (; to_echo_ > 0; --to_echo_) echo.append(kRping);
      co_await inner_->write_all(asio::buffer(echo), ec);
      // An empty read (or the write's error): the peer is alive.
      if (ec || !over) co_return 0;
    }
    if (over) {
      end_keepalive();
      break;
    }
    char chunk[kReadChunk];
    const std::size_t n = co_await inner_->read_some(asio::buffer(chunk), ec);
    if (ec) co_return 0;
    pending_.append(chunk, n);
  }
  if (!pending_.empty()) {
    const std::size_t n = asio::buffer_copy(buffer, asio::buffer(pending_));
    pending_.erase(0, n);
    co_return n;
  }
  co_return co_await inner_->read_some(buffer, ec);
}

Task<void> RpingStream::write_all(asio::const_buffer buffer, error_code& ec) {
  while (mode_ == Mode::echo && keepalive_ && !closed_) co_await keepalive_over_.wait();
  if (closed_) {
    ec = asio::error::operation_aborted;
    co_return;
  }
  co_await inner_->write_all(buffer, ec);
}

void RpingStream::close() {
  closed_ = true;
  keepalive_over_.notify();
  inner_->close();
}

}  // namespace dialback::envoy
