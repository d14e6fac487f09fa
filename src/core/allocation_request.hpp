// What an agent asks the edge to allocate at registration (docs/protocol.md
// §14): a port and a host name, each `auto` or a preferred value. Shared by
// the agent's config and the registration wire (Dialback-Request-Port and
// Dialback-Request-Host, tunnel/registration.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dialback {

struct AllocationRequest {
  enum class Kind { none, any, preferred };
  Kind port_kind = Kind::none;
  std::uint16_t port = 0;  // preferred port
  Kind host_kind = Kind::none;
  std::string label;  // preferred host label (lower case)

  bool empty() const { return port_kind == Kind::none && host_kind == Kind::none; }
  bool operator==(const AllocationRequest&) const = default;
};

// "auto", or a port 1-65535 / a DNS label (1-63 of [a-z0-9-], not at either
// end), as the headers and the agent's config write them. nullopt for
// anything else.
std::optional<AllocationRequest::Kind> parse_port_request(std::string_view text,
                                                          std::uint16_t& port);
std::optional<AllocationRequest::Kind> parse_host_request(std::string_view text,
                                                          std::string& label);

// The text of each half of `request` ("" when it asks for nothing).
std::string port_request_text(const AllocationRequest& request);
std::string host_request_text(const AllocationRequest& request);

}  // namespace dialback
