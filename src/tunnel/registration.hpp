// Registration handshake of docs/protocol.md §2: the values both sides exchange,
// the fixed names, and the validation rules they share. The HTTP/1.1 forms
// live in registration_request.hpp (agent -> edge) and
// registration_response.hpp (edge -> agent).
#pragma once

#include "core/allocation_request.hpp"
#include "core/identity.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace dialback {

inline constexpr std::string_view kRegistrationPath = "/.well-known/dialback/v1/tunnel";
inline constexpr std::string_view kUpgradeToken = "ptth";
inline constexpr std::string_view kRegistrationAlpn = "h2";
inline constexpr std::string_view kDefaultTenant = "default";

inline constexpr std::string_view kHeaderAlpn = "ALPN";
inline constexpr std::string_view kHeaderTunnel = "Dialback-Tunnel";
inline constexpr std::string_view kHeaderNode = "Dialback-Node";
inline constexpr std::string_view kHeaderCluster = "Dialback-Cluster";
inline constexpr std::string_view kHeaderTenant = "Dialback-Tenant";
inline constexpr std::string_view kHeaderLabels = "Dialback-Labels";
inline constexpr std::string_view kHeaderSession = "Dialback-Session";
inline constexpr std::string_view kHeaderEdge = "Dialback-Edge";
inline constexpr std::string_view kHeaderRoutes = "Dialback-Routes";
inline constexpr std::string_view kHeaderRequestPort = "Dialback-Request-Port";
inline constexpr std::string_view kHeaderRequestHost = "Dialback-Request-Host";

// At most this many Dialback-Labels entries are accepted.
inline constexpr std::size_t kMaxLabels = 32;

// What an agent asks for. On the edge side, after parsing, cluster and tenant
// hold their defaults when the agent omitted them and session_id is lower case.
struct RegistrationRequest {
  std::string host;  // edge control host (Host header)
  std::string tunnel, node, cluster, tenant;
  std::vector<std::pair<std::string, std::string>> labels;  // in header order
  std::string session_id;                                   // 32 hex characters
  std::optional<std::string> authorization;                 // raw Authorization value
  std::string user_agent;
  AllocationRequest allocation;  // Dialback-Request-Port / -Host

  bool operator==(const RegistrationRequest&) const = default;
};

// Why a registration failed: an HTTP status with a stable code and a human
// message. status 0 means the edge's answer was not a valid handshake.
struct RegistrationRejection {
  int status = 0;
  std::string code;
  std::string message;
  std::optional<int> retry_after_seconds;

  static RegistrationRejection bad_request(std::string message);
  static RegistrationRejection unauthorized(std::string message);
  static RegistrationRejection forbidden(std::string message);
  static RegistrationRejection unknown_tunnel(std::string message);
  static RegistrationRejection too_many_sessions(std::string message,
                                                 std::optional<int> retry_after_seconds);
  static RegistrationRejection draining(std::string message,
                                        std::optional<int> retry_after_seconds);
  // 429 before any check: the source address failed too often (agents.limits).
  static RegistrationRejection rate_limited(int retry_after_seconds);

  // The matching dialback::Error (bad_request ... draining); protocol_error
  // for status 0 and any status outside the §2 table.
  std::error_code error() const;

  // True when the agent should try again later (429 and 5xx), false when it
  // should stop and report (4xx, protocol errors).
  bool retryable() const;

  bool operator==(const RegistrationRejection&) const = default;
};

// What the agent learns from a 101.
struct RegistrationAccepted {
  std::string edge_id;
  std::string routes;  // raw Dialback-Routes value, for display

  bool operator==(const RegistrationAccepted&) const = default;
};


// 128 random bits as 32 lower-case hex characters, for Dialback-Session.
std::string generate_session_id();

}  // namespace dialback
