// The registration-time authorization decision (docs/protocol.md §2, §5).
//
// Pure logic: the edge extracts the credentials from the request and the TLS
// connection, picks the policy of the requested tunnel, and maps the outcome
// to 401 / 403.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/token_set.hpp"

namespace dialback {

// What an agent presented.
struct Credentials {
  std::optional<std::string> token;     // from the Authorization header, if any
  std::vector<std::string> cert_names;  // CN + DNS SANs of the verified client
                                        // certificate; empty when none
};

// What a tunnel accepts: any token of `tokens`, or a verified client
// certificate carrying one of `client_names` (as CN or DNS SAN).
struct TunnelAuthPolicy {
  TokenSet tokens;
  std::vector<std::string> client_names;
};

enum class AuthOutcome {
  allowed,
  unauthorized,  // no credential, or a token that does not match  -> 401
  forbidden,     // a verified client certificate whose names are not
                 // allowed, and no matching token                 -> 403
};

// Allowed when the token matches the policy's TokenSet, or when any
// certificate name equals (ASCII case-insensitively, as DNS names compare) an
// entry of client_names. Empty names never match.
AuthOutcome authorize(const TunnelAuthPolicy& policy, const Credentials& credentials);

}  // namespace dialback
