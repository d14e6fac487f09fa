// RpingStream: the Envoy reverse-tunnel keepalive between the handshake and
// HTTP/2 (docs/protocol.md §9). While a responder keeps an accepted
// connection unused it writes the 5 bytes "RPING" now and then; the
// initiator echoes each one until the first other byte, after which the
// connection is HTTP/2 only.
//
// A ByteStream decorator under H2Connection:
// - echo (the initiator, our agent): "RPING"s at the start of the input are
//   answered with "RPING" and not passed on; each one counts as a read (an
//   empty one), so the session's liveness sees a live peer. The session's
//   own writes wait until the first other byte has arrived: the responder
//   must see nothing but echoes until it starts HTTP/2.
// - strip (the responder, our edge, which starts HTTP/2 at once): "RPING"s
//   the initiator sends before its first HTTP/2 byte are dropped, not
//   answered, since our HTTP/2 output has already begun.
#pragma once

#include <memory>
#include <string>

#include "core/async_event.hpp"
#include "core/byte_stream.hpp"

namespace dialback::envoy {

inline constexpr std::string_view kRping = "RPING";

class RpingStream final : public ByteStream {
 public:
  enum class Mode { echo, strip };

  // `initial`: bytes already read from `inner`, examined first.
  RpingStream(std::unique_ptr<ByteStream> inner, Mode mode, std::string initial = {});

  Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) override;
  Task<void> write_all(asio::const_buffer buffer, error_code& ec) override;
  Task<void> shutdown() override { return inner_->shutdown(); }
  void close() override;
  asio::any_io_executor executor() override { return inner_->executor(); }

  // RPINGs answered (echo) or dropped (strip) so far.
  std::uint64_t rpings() const { return rpings_; }

 private:
  // Consumes the RPINGs at the front of pending_; true once the first
  // other byte is there (the keepalive phase is over).
  bool consume_rpings();
  void end_keepalive();

  std::unique_ptr<ByteStream> inner_;
  Mode mode_;
  std::string pending_;      // read from inner_, not yet passed on
  bool keepalive_ = true;    // still before the first non-RPING byte
  std::size_t to_echo_ = 0;  // RPINGs consumed and not yet answered
  std::uint64_t rpings_ = 0;
  AsyncEvent keepalive_over_;  // wakes writes held back in echo mode
  bool closed_ = false;
};

}  // namespace dialback::envoy
