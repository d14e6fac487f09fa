// Protocol-free request and response heads carried through a tunnel.
// Header names are lower case (HTTP/2 form); hop-by-hop headers are never here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialback {

struct HeaderField {
  std::string name;   // lower case
  std::string value;
};

using HeaderList = std::vector<HeaderField>;

// First value of header `name` (lower case), if present.
std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name);

struct RequestHead {
  std::string method;
  std::string scheme;     // "http" or "https": what the public client used
  std::string authority;  // public Host
  std::string path;       // origin-form target, with query
  std::string protocol;   // RFC 8441 :protocol for extended CONNECT; empty otherwise
  HeaderList headers;
};

struct ResponseHead {
  int status = 0;
  HeaderList headers;
};

}  // namespace dialback
