// Small file helpers for certificate and key files (POSIX; keys stay 0600).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "core/result.hpp"

namespace dialback {

// The whole file, which must be a regular file of at most 1 MiB.
Result<std::string> read_small_file(const std::filesystem::path& path);

// Creates `path` with `mode`; fails with std::errc::file_exists if anything
// is already there (never follows or replaces an existing entry).
Result<void> write_new_file(const std::filesystem::path& path, std::string_view content,
                            mode_t mode);

// Writes a temporary file with `mode` next to `path`, then renames it over
// `path`: readers see the old or the new content, never a partial file, and
// the file never exists with wider permissions than `mode`.
Result<void> replace_file(const std::filesystem::path& path, std::string_view content,
                          mode_t mode);

}  // namespace dialback
