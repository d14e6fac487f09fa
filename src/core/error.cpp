#include "core/error.hpp"

#include <string>

namespace dialback {
namespace {

class DialbackCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dialback"; }
  std::string message(int code) const override {
    switch (static_cast<Error>(code)) {
      case Error::ok: return "success";
      case Error::bad_request: return "malformed request";
      case Error::unauthorized: return "missing or invalid credential";
      case Error::forbidden: return "credential not valid for this tunnel";
      case Error::unknown_tunnel: return "unknown tunnel";
      case Error::too_many_sessions: return "too many sessions";
      case Error::draining: return "edge is draining";
      case Error::protocol_error: return "protocol error";
      case Error::session_closed: return "session closed";
      case Error::stream_reset: return "stream reset by peer";
      case Error::stream_refused: return "stream refused by peer";
      case Error::stream_invalid: return "invalid HTTP/2 message from the peer (refused)";
      case Error::header_limit: return "header block from the peer over the limit (refused)";
      case Error::ping_timeout: return "no PING acknowledgement in time";
      case Error::no_session: return "tunnel has no connected agent";
      case Error::upstream_connect: return "cannot connect to the local service";
      case Error::upstream_timeout: return "local service timed out";
      case Error::upstream_protocol: return "local service sent an invalid response";
      case Error::timeout: return "timed out";
      case Error::cancelled: return "cancelled";
      case Error::config_invalid: return "invalid configuration";
      case Error::limit_exceeded: return "limit exceeded";
    }
    return "unknown dialback error";
  }
};

}  // namespace

const std::error_category& dialback_category() noexcept {
  static const DialbackCategory category;
  return category;
}

std::string_view error_name(Error e) noexcept {
  switch (e) {
    case Error::ok: return "ok";
    case Error::bad_request: return "bad_request";
    case Error::unauthorized: return "unauthorized";
    case Error::forbidden: return "forbidden";
    case Error::unknown_tunnel: return "unknown_tunnel";
    case Error::too_many_sessions: return "too_many_sessions";
    case Error::draining: return "draining";
    case Error::protocol_error: return "protocol_error";
    case Error::session_closed: return "session_closed";
    case Error::stream_reset: return "stream_reset";
    case Error::stream_refused: return "stream_refused";
    case Error::stream_invalid: return "stream_invalid";
    case Error::header_limit: return "header_limit";
    case Error::ping_timeout: return "ping_timeout";
    case Error::no_session: return "no_session";
    case Error::upstream_connect: return "upstream_connect";
    case Error::upstream_timeout: return "upstream_timeout";
    case Error::upstream_protocol: return "upstream_protocol";
    case Error::timeout: return "timeout";
    case Error::cancelled: return "cancelled";
    case Error::config_invalid: return "config_invalid";
    case Error::limit_exceeded: return "limit_exceeded";
  }
  return "unknown";
}

}  // namespace dialback
