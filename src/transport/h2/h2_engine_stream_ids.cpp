// H2Engine's check of the peer's stream ids under settings_.strict (RFC
// 9113 §5.1.1): a frame scanner over the input that nghttp2 does not apply
// itself, kept apart from the engine's session logic.
#include <algorithm>
#include <string>

#include "transport/h2/h2_engine.hpp"

namespace dialback::h2 {

Result<void> H2Engine::feed_checking_stream_ids(std::span<const std::uint8_t> bytes) {
  std::size_t fed = 0;
  for (std::size_t pos = 0; pos < bytes.size();) {
    if (scan_.skip > 0) {
      const std::size_t n = std::min(scan_.skip, bytes.size() - pos);
      scan_.skip -= n;
      pos += n;
      continue;
    }
    scan_.header[scan_.have++] = bytes[pos++];
    if (scan_.have < sizeof scan_.header) continue;
    scan_.have = 0;
    const auto* h = scan_.header;
    scan_.skip = static_cast<std::size_t>(h[0]) << 16 | static_cast<std::size_t>(h[1]) << 8 | h[2];
    const auto id = static_cast<std::int32_t>((static_cast<std::uint32_t>(h[5] & 0x7f) << 24) |
                                              (static_cast<std::uint32_t>(h[6]) << 16) |
                                              (static_cast<std::uint32_t>(h[7]) << 8) | h[8]);
    if (h[3] != NGHTTP2_HEADERS || id == 0) continue;
    if (id > scan_.highest_opened) {
      scan_.highest_opened = id;
      continue;
    }
    // A lower id: trailers of a stream nghttp2 knows (open or recently
    // closed) are fine; nghttp2 judges those. Anything else would open a
    // stream below one already opened. Decide on the state after every
    // frame before this one.
    const std::size_t header_start = pos >= sizeof scan_.header ? pos - sizeof scan_.header : 0;
    if (header_start > fed) {
      if (auto ok = mem_recv(bytes.subspan(fed, header_start - fed)); !ok) return ok;
      fed = header_start;
    }
    if (id < scan_.highest_opened && nghttp2_session_find_stream(session_, id) == nullptr) {
      last_error_ = "HEADERS opening stream " + std::to_string(id) + " after stream " +
                    std::to_string(scan_.highest_opened) + " (RFC 9113 §5.1.1)";
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      notify_output();
      return fail(Error::protocol_error);
    }
  }
  if (fed < bytes.size()) return mem_recv(bytes.subspan(fed));
  return {};
}

}  // namespace dialback::h2
