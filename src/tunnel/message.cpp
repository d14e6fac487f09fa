#include "tunnel/message.hpp"

namespace dialback {

std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& field : headers) {
    if (field.name == name) return std::string_view(field.value);
  }
  return std::nullopt;
}

}  // namespace dialback
