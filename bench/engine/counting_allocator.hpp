// Counts every heap allocation of the process: counting_allocator.cpp
// replaces malloc, calloc, realloc, free and the aligned variants (glibc's
// documented way to replace malloc) and forwards them to glibc. That covers
// operator new (libstdc++ calls malloc) and nghttp2 (its default allocator
// is malloc). Link it only into benchmark executables.
#pragma once

#include <cstdint>

namespace dialback::bench {

struct AllocStats {
  std::uint64_t count = 0;  // allocation calls (realloc counts as one)
  std::uint64_t bytes = 0;  // bytes requested by them
};

// Totals since the program started, from every thread.
AllocStats alloc_stats();

// While on, and when DIALBACK_ALLOC_TRACE is set in the environment, every
// allocation writes its size and a backtrace to stderr. Returns whether
// tracing is now active.
bool trace_allocations(bool on);

}  // namespace dialback::bench
