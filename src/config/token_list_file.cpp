#include "config/token_list_file.hpp"

#include <string_view>

#include "config/config_loader.hpp"
#include "config/config_rules.hpp"

namespace dialback {
namespace {

constexpr std::string_view kTrailing = " \t\r\n\f\v";
constexpr std::string_view kHashPrefix = "sha256:";

}  // namespace

tl::expected<std::vector<std::string>, std::string> read_token_list_file(const std::string& path) {
  auto contents = config_detail::read_config_file(path);
  if (!contents) return tl::unexpected(path + ": " + contents.error().message);
  std::vector<std::string> entries;
  std::string_view rest = *contents;
  for (int line = 1; !rest.empty(); ++line) {
    const auto newline = rest.find('\n');
    std::string_view text = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    const auto end = text.find_last_not_of(kTrailing);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(0, end + 1);
    if (text.empty() || text.front() == '#') continue;
    std::string entry(text);
    if (istarts_with(entry, kHashPrefix)) entry = to_lower_ascii(entry);
    if (auto why = check_token_spec(entry)) {
      return tl::unexpected(path + ":" + std::to_string(line) + ": " + *why);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace dialback
