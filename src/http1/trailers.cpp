#include "http1/trailers.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include "core/ascii.hpp"
#include "http1/hop_by_hop.hpp"

namespace dialback::http1 {
namespace {

bool allowed_in_trailers(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 9> kForbidden = {
      "content-length", "content-type", "content-encoding", "content-range", "host",
      "authorization",  "set-cookie",   "cookie",           "trailer"};
  if (is_hop_by_hop(lower_name)) return false;
  return std::find(kForbidden.begin(), kForbidden.end(), lower_name) == kForbidden.end();
}

}  // namespace

HeaderList trailer_fields(const http::fields& fields, std::size_t head_fields) {
  HeaderList out;
  auto it = fields.begin();
  std::advance(it, std::min<std::size_t>(head_fields, std::distance(fields.begin(), fields.end())));
  for (; it != fields.end(); ++it) {
    std::string name = to_lower_ascii(it->name_string());
    if (allowed_in_trailers(name)) out.push_back({std::move(name), std::string(it->value())});
  }
  return out;
}

http::fields trailer_section(const HeaderList& trailers) {
  http::fields out;
  for (const auto& field : trailers) {
    if (allowed_in_trailers(field.name)) out.insert(field.name, field.value);
  }
  return out;
}

}  // namespace dialback::http1
