// Small helpers for tests over StreamBody / TunnelStream / IncomingStream.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/result.hpp"
#include "tunnel/stream_body.hpp"

namespace dialback::test {

inline RequestHead make_request_head(std::string method = "POST", std::string path = "/upload",
                                     std::string authority = "app.example.test") {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "https";
  head.authority = std::move(authority);
  head.path = std::move(path);
  head.headers = {{"x-test", "1"}, {"user-agent", "stream-contract/1"}};
  return head;
}

// The value of header `name`, or "<none>" (for EXPECT_EQ).
inline std::string header_or_none(const HeaderList& headers, std::string_view name) {
  const auto value = find_header(headers, name);
  return value ? std::string(*value) : std::string("<none>");
}

// Reads `body` to its end: everything it carried, or the first failure.
inline Task<Result<std::string>> read_all(StreamBody& body) {
  std::string all;
  for (;;) {
    auto chunk = co_await body.read_body();
    if (!chunk) co_return fail(chunk.error());
    if (!chunk->has_value()) co_return all;
    all += **chunk;
  }
}

// The error of a failed result, or an empty code when it succeeded (for EXPECT_EQ).
template <class T>
std::error_code error_of(const Result<T>& result) {
  return result ? std::error_code() : result.error();
}

inline std::error_code code(Error e) { return make_error_code(e); }

}  // namespace dialback::test
