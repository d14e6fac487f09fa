// ByteStream: the socket a protocol driver owns, whatever it is (TLS over
// TCP, plain TCP). One virtual call per read or write batch.
#pragma once

#include <chrono>
#include <cstddef>

#include "core/asio.hpp"

namespace dialback {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Reads at least one byte; ec set on EOF or error.
  virtual Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) = 0;
  // Writes every byte of `buffer`; ec set on error.
  virtual Task<void> write_all(asio::const_buffer buffer, error_code& ec) = 0;
  // Whether wait_readable() can wait for the peer without a read buffer.
  virtual bool waits_readable() const { return false; }
  // Returns once read_some() would find bytes (or EOF, or an error) without
  // waiting, so that an idle reader need not hold a buffer; returns at once
  // when waits_readable() is false.
  virtual Task<void> wait_readable(error_code& /*ec*/) { co_return; }
  // Graceful close (TLS close_notify, TCP FIN); bounded by the caller closing on timeout.
  virtual Task<void> shutdown() = 0;
  // Abortive close: pending reads and writes complete with an error.
  virtual void close() = 0;
  virtual asio::any_io_executor executor() = 0;
};

// ByteStream over any Asio stream type (tcp::socket or ssl::stream<tcp::socket>).
template <class Stream>
class SocketByteStream final : public ByteStream {
 public:
  explicit SocketByteStream(Stream stream) : stream_(std::move(stream)) {}

  Stream& stream() { return stream_; }

  Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) override {
    co_return co_await stream_.async_read_some(buffer, nothrow(ec));
  }
  Task<void> write_all(asio::const_buffer buffer, error_code& ec) override {
    co_await asio::async_write(stream_, buffer, nothrow(ec));
  }
  bool waits_readable() const override { return kWaitsReadable; }
  Task<void> wait_readable(error_code& ec) override {
    if constexpr (kWaitsReadable) co_await stream_.async_wait_readable(nothrow(ec));
    co_return;
  }
  Task<void> shutdown() override {
    error_code ec;
    if constexpr (requires { stream_.async_shutdown(asio::use_awaitable); }) {
      co_await stream_.async_shutdown(nothrow(ec));
    }
    lowest_socket(stream_).shutdown(tcp::socket::shutdown_both, ec);
  }
  void close() override {
    error_code ec;
    lowest_socket(stream_).close(ec);
  }
  asio::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  static constexpr bool kWaitsReadable =
      requires(Stream& s) { s.async_wait_readable(asio::use_awaitable); };
  Stream stream_;
};

}  // namespace dialback
