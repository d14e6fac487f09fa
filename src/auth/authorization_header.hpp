// Reading and writing HTTP Authorization headers (docs/protocol.md §2): the
// token or Basic pair an agent presents, and the values an agent sends.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dialback {

// The token carried by an Authorization header value:
//   "Bearer <token>"             -> <token>
//   "Basic base64(user:pass)"    -> pass, or user when pass is empty
// Scheme names are case-insensitive; surrounding spaces and tabs are ignored.
// Returns nullopt for any other scheme, an empty or malformed credential
// (control characters or inner whitespace, invalid base64, no ':' in the
// decoded Basic pair, both user and pass empty), or a credential longer than
// 8 KiB.
std::optional<std::string> token_from_authorization(std::string_view header_value);

// A user name and password from "Basic base64(user:pass)".
struct BasicCredential {
  std::string user;
  std::string password;  // everything after the first ':'

  bool operator==(const BasicCredential&) const = default;
};

// The pair of a Basic Authorization header value, under the same rules as
// token_from_authorization (scheme case-insensitive, at most 8 KiB, valid
// base64, a ':' in the decoded text, user and password not both empty);
// nullopt for any other scheme or a malformed value. Either part may be
// empty: an empty part never matches a configured pair (BasicCredentialSet).
std::optional<BasicCredential> basic_from_authorization(std::string_view header_value);

// "Basic " + base64(user ":" password), standard base64 with padding.
std::string basic_authorization(std::string_view user, std::string_view password);

// "Bearer " + token.
std::string bearer_authorization(std::string_view token);

}  // namespace dialback
