// The one error type of configuration loading and validation.
#pragma once

#include <string>

namespace dialback {

// Where and why a configuration is invalid. Loaders fill every field they
// know; validate_*_config leaves `file` empty and `line` 0 (the loader then
// adds the location of `key` when the value came from a file). The CLI uses
// the flag name as `key` for errors in flags.
struct ConfigError {
  std::string file;     // path as given by the user; empty for flags
  int line = 0;         // 1-based; 0 = unknown
  std::string key;      // dotted path, e.g. "tunnels.web.auth.tokens", "edges[0].address"
  std::string message;  // what is wrong, lower case, no trailing period

  // "edge.yaml:12: tunnels.web.auth.tokens: expected a list of strings";
  // parts that are unknown (file, line, key) are left out.
  std::string to_string() const;
};

}  // namespace dialback
