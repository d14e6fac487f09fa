#include "http1/hop_by_hop.hpp"

#include <array>

#include <boost/beast/http/rfc7230.hpp>

namespace dialback::http1 {

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding",
      "upgrade",    "te",         "proxy-authenticate"};
  for (auto n : kNames) {
    if (n == name) return true;
  }
  return false;
}

bool is_named_by_connection(const http::fields& fields, std::string_view name) {
  auto [begin, end] = fields.equal_range(http::field::connection);
  for (auto it = begin; it != end; ++it) {
    for (auto token : http::token_list(it->value())) {
      if (beast::iequals(token, name)) return true;
    }
  }
  return false;
}

}  // namespace dialback::http1
