#include "tunnel/stream_pump.hpp"

namespace dialback {

Task<Result<std::uint64_t>> pump_stream_body(StreamBody& from, StreamBody& to,
                                             std::uint64_t limit) {
  std::uint64_t copied = 0;
  for (;;) {
    auto chunk = co_await from.read_body();
    if (!chunk) co_return fail(chunk.error());
    if (!chunk->has_value()) break;
    const std::string& data = **chunk;
    copied += data.size();
    if (limit > 0 && copied > limit) co_return fail(Error::limit_exceeded);
    auto written = co_await to.write_body(data);
    if (!written) co_return fail(Error::cancelled);
  }
  auto ended = to.end_body(from.trailers());
  if (!ended) co_return fail(Error::cancelled);
  co_return copied;
}

}  // namespace dialback
