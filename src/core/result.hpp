// Result<T>: the return type of every fallible data-path function.
#pragma once

#include <system_error>

#include <tl/expected.hpp>

namespace dialback {

template <class T = void>
using Result = tl::expected<T, std::error_code>;

inline tl::unexpected<std::error_code> fail(std::error_code ec) { return tl::unexpected(ec); }

}  // namespace dialback
