// Errors of the PKI helpers: a code for programs, a sentence for people.
#pragma once

#include <string>
#include <system_error>

#include <tl/expected.hpp>

namespace dialback {

struct PkiError {
  std::error_code code;  // std::errc for argument/file problems, Asio's SSL
                         // category for OpenSSL failures
  std::string detail;    // names what failed: "dir/ca.key already exists; ..."

  // Same spelling as std::error_code::message(), so callers can print either.
  const std::string& message() const { return detail; }
};

template <class T = void>
using PkiResult = tl::expected<T, PkiError>;

}  // namespace dialback
