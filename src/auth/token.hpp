// Bearer tokens: generation, hashing for storage in config, and comparison.
//
// Tokens are secrets. Config may hold either the token itself or its hash
// ("sha256:<64 lower-case hex>", from `dialback token hash`), so a leaked
// config file does not leak working credentials.
#pragma once

#include <string>
#include <string_view>

namespace dialback {

// A new random token: "dbt_" and 32 bytes from OpenSSL's CSPRNG in base64url
// without padding (43 characters of [A-Za-z0-9_-]). The prefix keeps a token
// from starting with '-', which a command line would take for an option
// (`dialback token hash -x...`), and lets secret scanners recognise it.
// Returns an empty string only if
// the CSPRNG fails; callers must treat that as an error (an empty token never
// matches any TokenSet).
std::string generate_token();

// "sha256:" followed by the 64 lower-case hex digits of SHA-256(token).
// Returns an empty string only if OpenSSL cannot compute the digest.
std::string hash_token(std::string_view token);

// True when a and b are byte-for-byte equal. The time taken depends only on
// the lengths, never on the contents; a length mismatch returns false.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace dialback
