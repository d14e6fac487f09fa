// The registration-time authorization decision (docs/protocol.md §2, §5).
//
// Pure logic: the edge extracts the credentials from the request and the TLS
// connection, picks the policy of the requested tunnel, and maps the outcome
// to 401 / 403.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/authorization_header.hpp"
#include "auth/basic_credential_set.hpp"
#include "auth/token_set.hpp"

namespace dialback {

// What an agent presented. Secrets: never logged.
struct Credentials {
  std::optional<std::string> token;     // from the Authorization header, if any
  std::vector<std::string> cert_names;  // CN + DNS SANs of the verified client
                                        // certificate; empty when none
  std::optional<BasicCredential> basic;  // a Basic Authorization header's pair
  std::string authorization;             // the raw Authorization value, for
                                         // auth.external; empty when none
};

// The credentials of an Authorization header value (empty: none) and a
// verified client certificate's names: the token (Bearer, or Basic's
// password, see token_from_authorization), the Basic pair, the raw value.
Credentials credentials_from(std::string_view authorization, std::vector<std::string> cert_names);

// What a tunnel accepts: any token of `tokens` (`auth.tokens` and
// `auth.token_files` together), a Basic pair of `basic`, or a verified
// client certificate carrying one of `client_names` (as CN or DNS SAN).
struct TunnelAuthPolicy {
  TokenSet tokens;
  std::vector<std::string> client_names;
  BasicCredentialSet basic;
};

enum class AuthOutcome {
  allowed,
  unauthorized,  // no credential, or a token that does not match  -> 401
  forbidden,     // a verified client certificate whose names are not
                 // allowed, and no matching token                 -> 403
};

// Allowed when the token matches the policy's TokenSet, when the Basic pair
// matches its BasicCredentialSet (both are always checked), or when any
// certificate name equals (ASCII case-insensitively, as DNS names compare) an
// entry of client_names. Empty names never match.
AuthOutcome authorize(const TunnelAuthPolicy& policy, const Credentials& credentials);

}  // namespace dialback
