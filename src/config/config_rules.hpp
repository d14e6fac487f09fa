// Value rules shared by the edge and agent validators (docs/protocol.md §2).
#pragma once

#include "core/ascii.hpp"  // to_lower_ascii, for the loaders' lower-case normalisation
#include "core/identity.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dialback {


// A public host name the edge routes: a lower-case DNS name (labels of 1-63
// [a-z0-9-], no leading or trailing '-', at most 253 characters), or "*."
// followed by such a name. No port, no trailing dot.
bool is_valid_host_pattern(std::string_view value) noexcept;

// A tunnel token as written in the edge config: "sha256:" + 64 hex digits
// (either case), or a plain token of printable ASCII without spaces.
// Returns why the value is invalid, or nullopt when it is valid.
std::optional<std::string> check_token_spec(std::string_view value);

// Printable ASCII without spaces, non-empty (bearer tokens, client names,
// TLS server names).
bool is_printable_token(std::string_view value) noexcept;

// An HTTP field name (RFC 9110 token) in lower case, non-empty.
bool is_header_name(std::string_view value) noexcept;

// Identity derived from this machine's host name: invalid characters become
// '-', cut to 63 characters; "localhost" when the name is unavailable.
std::string default_edge_id();

// "<hostname>-<pid>", cut to fit 63 characters.
std::string default_agent_node();

}  // namespace dialback
