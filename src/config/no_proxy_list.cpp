#include "config/no_proxy_list.hpp"

#include "core/ascii.hpp"

namespace dialback {
namespace {

std::string lower_domain(std::string_view name) {
  while (name.starts_with('.')) name.remove_prefix(1);
  while (name.ends_with('.')) name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace

NoProxyList NoProxyList::parse(std::string_view text) {
  NoProxyList list;
  constexpr std::string_view kSeparators = ", \t\r\n";
  std::size_t at = 0;
  while (at < text.size()) {
    const auto start = text.find_first_not_of(kSeparators, at);
    if (start == std::string_view::npos) break;
    const auto end = std::min(text.find_first_of(kSeparators, start), text.size());
    std::string_view entry = text.substr(start, end - start);
    at = end;
    if (entry == "*") {
      list.everything_ = true;
      continue;
    }
    if (entry.starts_with('[') && entry.ends_with(']')) entry = entry.substr(1, entry.size() - 2);
    if (auto network = IpNetwork::parse(entry)) {
      list.networks_.push_back(*network);
    } else if (auto domain = lower_domain(entry); !domain.empty()) {
      list.domains_.push_back(std::move(domain));
    }
  }
  return list;
}

bool NoProxyList::matches(std::string_view host) const {
  if (everything_) return true;
  error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (!ec) return in_any(networks_, address);
  const std::string name = lower_domain(host);
  for (const std::string& domain : domains_) {
    if (name == domain) return true;
    if (name.size() > domain.size() && name.ends_with(domain) &&
        name[name.size() - domain.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace dialback
