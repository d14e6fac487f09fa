#include "agent/proxy_protocol_header.hpp"

#include <array>
#include <cstdint>

namespace dialback::agent {
namespace {

constexpr std::array<unsigned char, 12> kSignature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr unsigned char kLocal = 0x20;       // version 2, LOCAL
constexpr unsigned char kProxy = 0x21;       // version 2, PROXY
constexpr unsigned char kUnspec = 0x00;      // AF_UNSPEC, UNSPEC
constexpr unsigned char kTcpOverIp4 = 0x11;  // AF_INET, STREAM
constexpr unsigned char kTcpOverIp6 = 0x21;  // AF_INET6, STREAM

void append_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

template <std::size_t N>
void append_bytes(std::string& out, const std::array<unsigned char, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

asio::ip::address_v6 as_v6(const asio::ip::address& address) {
  return address.is_v6() ? address.to_v6()
                         : asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4());
}

}  // namespace

std::string proxy_v2_header(const std::optional<tcp::endpoint>& client,
                            const std::optional<tcp::endpoint>& listener) {
  std::string out;
  append_bytes(out, kSignature);
  if (!client || !listener) {
    out.push_back(static_cast<char>(kLocal));
    out.push_back(static_cast<char>(kUnspec));
    append_u16(out, 0);
    return out;
  }
  out.push_back(static_cast<char>(kProxy));
  const bool ip4 = client->address().is_v4() && listener->address().is_v4();
  if (ip4) {
    out.push_back(static_cast<char>(kTcpOverIp4));
    append_u16(out, 2 * 4 + 2 * 2);
    append_bytes(out, client->address().to_v4().to_bytes());
    append_bytes(out, listener->address().to_v4().to_bytes());
  } else {
    out.push_back(static_cast<char>(kTcpOverIp6));
    append_u16(out, 2 * 16 + 2 * 2);
    append_bytes(out, as_v6(client->address()).to_bytes());
    append_bytes(out, as_v6(listener->address()).to_bytes());
  }
  append_u16(out, client->port());
  append_u16(out, listener->port());
  return out;
}

}  // namespace dialback::agent
