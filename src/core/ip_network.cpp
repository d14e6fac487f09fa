#include "core/ip_network.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace dialback {
namespace {

using Bytes = std::array<unsigned char, 16>;

// The address as 16 bytes; IPv4 as IPv4-mapped IPv6, so both forms compare.
Bytes bytes_of(const asio::ip::address& address) {
  if (address.is_v4())
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

bool prefix_equal(const Bytes& a, const Bytes& b, unsigned bits) {
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned n = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<unsigned char>(0xff00u >> n);
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= n;
  }
  return true;
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  error_code ec;
  const auto address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  const unsigned width = address.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, parse_ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || parse_ec != std::errc{} || end != digits.data() + digits.size() ||
        prefix > width) {
      return std::nullopt;
    }
  }
  IpNetwork network;
  network.prefix = prefix;
  if (address.is_v4()) {
    const auto bits = address.to_v4().to_uint();
    const auto mask = prefix == 0 ? 0u : ~0u << (32 - prefix);
    network.base = asio::ip::address_v4(bits & mask);
  } else {
    auto bytes = address.to_v6().to_bytes();
    for (unsigned i = 0; i < 16; ++i) {
      const unsigned first = i * 8;
      if (first >= prefix)
        bytes[i] = 0;
      else if (prefix - first < 8)
        bytes[i] &= static_cast<unsigned char>(0xff00u >> (prefix - first));
    }
    network.base = asio::ip::address_v6(bytes);
  }
  return network;
}

bool IpNetwork::contains(const asio::ip::address& address) const {
  // IPv4 ranges sit at bit 96 of the mapped form.
  const unsigned bits = base.is_v4() ? prefix + 96 : prefix;
  return prefix_equal(bytes_of(base), bytes_of(address), bits);
}

std::string IpNetwork::to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

std::string source_key(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  if (address.is_v6()) {
    auto bytes = address.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return address.to_string();
}

std::string source_key(const std::string& address) {
  error_code ec;
  const auto parsed = asio::ip::make_address(address, ec);
  return ec ? address : source_key(parsed);
}

bool in_any(const std::vector<IpNetwork>& networks, const asio::ip::address& address) {
  for (const auto& network : networks) {
    if (network.contains(address)) return true;
  }
  return false;
}

}  // namespace dialback
