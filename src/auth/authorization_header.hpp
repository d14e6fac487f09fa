// Extracting a token from an HTTP Authorization header (docs/protocol.md §2).
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

}  // namespace dialback
