// A file of tunnel tokens (`tunnels.<name>.auth.token_files`,
// docs/configuration.md): one token or "sha256:<64 hex>" hash per line.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace dialback {

// The entries of the token file at `path`, in file order, hashes
// lower-cased. Lines are trimmed of trailing whitespace (CR included);
// empty lines and lines starting with '#' are skipped. Fails with
// "<path>: cannot read file: ..." or "<path>:<line>: <why>" for an entry
// that is not a valid token or hash (check_token_spec); the message never
// holds a line's text. The edge loader calls this once per file at load; a
// reload reads the files again through it.
tl::expected<std::vector<std::string>, std::string> read_token_list_file(const std::string& path);

}  // namespace dialback
