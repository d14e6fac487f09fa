#include "transport/h2/h2_headers.hpp"

#include "core/error.hpp"

namespace dialback::h2 {
namespace {

nghttp2_nv field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

void append_plain(std::vector<nghttp2_nv>& out, const HeaderList& headers) {
  for (const auto& h : headers) out.push_back(field(h.name, h.value));
}

}  // namespace

void request_fields(const RequestHead& head, std::vector<nghttp2_nv>& out) {
  out.clear();
  out.reserve(head.headers.size() + 5);
  out.push_back(field(":method", head.method));
  // A plain CONNECT carries only :method and :authority (RFC 9113 §8.5).
  const bool plain_connect = head.method == "CONNECT" && head.protocol.empty();
  if (!plain_connect) out.push_back(field(":scheme", head.scheme));
  out.push_back(field(":authority", head.authority));
  if (!plain_connect) out.push_back(field(":path", head.path));
  if (!head.protocol.empty()) out.push_back(field(":protocol", head.protocol));
  append_plain(out, head.headers);
}

void response_fields(const ResponseHead& head, std::string& status_storage,
                     std::vector<nghttp2_nv>& out) {
  status_storage = std::to_string(head.status);
  out.clear();
  out.reserve(head.headers.size() + 1);
  out.push_back(field(":status", status_storage));
  append_plain(out, head.headers);
}

void plain_fields(const HeaderList& headers, std::vector<nghttp2_nv>& out) {
  out.clear();
  out.reserve(headers.size());
  append_plain(out, headers);
}

}  // namespace dialback::h2
