#include "edge/health_reporting_stream.hpp"

namespace dialback::edge {

Task<Result<ResponseHead>> HealthReportingStream::read_response(
    std::chrono::steady_clock::time_point deadline) {
  auto head = co_await inner_->read_response(deadline);
  if (health_) {
    if (head) {
      health_->stream_succeeded();
    } else {
      health_->stream_failed(head.error());
    }
    health_.reset();
  }
  co_return head;
}

}  // namespace dialback::edge
