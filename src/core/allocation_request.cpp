#include "core/allocation_request.hpp"

#include <algorithm>

namespace dialback {

std::optional<AllocationRequest::Kind> parse_port_request(std::string_view text,
                                                          std::uint16_t& port) {
  if (text == "auto") return AllocationRequest::Kind::any;
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  port = static_cast<std::uint16_t>(value);
  return AllocationRequest::Kind::preferred;
}

std::optional<AllocationRequest::Kind> parse_host_request(std::string_view text,
                                                          std::string& label) {
  if (text == "auto") return AllocationRequest::Kind::any;
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') {
    return std::nullopt;
  }
  const bool label_chars = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!label_chars) return std::nullopt;
  label = std::string(text);
  return AllocationRequest::Kind::preferred;
}

std::string port_request_text(const AllocationRequest& request) {
  switch (request.port_kind) {
    case AllocationRequest::Kind::none: return {};
    case AllocationRequest::Kind::any: return "auto";
    case AllocationRequest::Kind::preferred: return std::to_string(request.port);
  }
  return {};
}

std::string host_request_text(const AllocationRequest& request) {
  switch (request.host_kind) {
    case AllocationRequest::Kind::none: return {};
    case AllocationRequest::Kind::any: return "auto";
    case AllocationRequest::Kind::preferred: return request.label;
  }
  return {};
}

}  // namespace dialback
