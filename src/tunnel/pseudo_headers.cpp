#include "tunnel/pseudo_headers.hpp"

#include <charconv>

#include "core/error.hpp"

namespace dialback {

Result<RequestHead> parse_request_fields(HeaderList fields) {
  // In place: pseudo-header values move into the head, regular fields move
  // up over them, and the list becomes head.headers. No allocation.
  RequestHead head;
  auto kept = fields.begin();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    auto& f = *it;
    if (f.name.empty() || f.name[0] != ':') {
      if (kept != it) *kept = std::move(f);
      ++kept;
    } else if (f.name == ":method") {
      head.method = std::move(f.value);
    } else if (f.name == ":scheme") {
      head.scheme = std::move(f.value);
    } else if (f.name == ":authority") {
      head.authority = std::move(f.value);
    } else if (f.name == ":path") {
      head.path = std::move(f.value);
    } else if (f.name == ":protocol") {
      head.protocol = std::move(f.value);
    } else {
      return fail(Error::protocol_error);
    }
  }
  if (head.method.empty()) return fail(Error::protocol_error);
  fields.erase(kept, fields.end());
  head.headers = std::move(fields);
  return head;
}

Result<ResponseHead> parse_response_fields(HeaderList fields) {
  ResponseHead head;
  auto kept = fields.begin();  // in place, as parse_request
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    auto& f = *it;
    if (f.name == ":status") {
      const auto* end = f.value.data() + f.value.size();
      auto [ptr, ec] = std::from_chars(f.value.data(), end, head.status);
      if (ec != std::errc{} || ptr != end || head.status < 100 || head.status > 999) {
        return fail(Error::protocol_error);
      }
    } else if (!f.name.empty() && f.name[0] == ':') {
      return fail(Error::protocol_error);
    } else {
      if (kept != it) *kept = std::move(f);
      ++kept;
    }
  }
  if (head.status == 0) return fail(Error::protocol_error);
  fields.erase(kept, fields.end());
  head.headers = std::move(fields);
  return head;
}

}  // namespace dialback
