#include "counting_allocator.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <execinfo.h>
#include <unistd.h>

// glibc's own entry points; exported for exactly this use.
extern "C" {
void* __libc_malloc(std::size_t size) noexcept;
void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
void* __libc_realloc(void* ptr, std::size_t size) noexcept;
void __libc_free(void* ptr) noexcept;
void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
}

namespace dialback::bench {
namespace {

// Globals by necessity: the replaced malloc has no object to keep them in.
std::atomic<std::uint64_t> g_count{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<bool> g_trace{false};
thread_local bool t_tracing = false;  // inside trace(): its own allocations are not traced

void write_text(const char* text, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, size);
    if (n <= 0) return;
    text += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Prints without allocating: snprintf into a stack buffer, backtrace_symbols_fd.
void trace(std::size_t size) {
  if (t_tracing) return;
  t_tracing = true;
  char line[64];
  const int n = std::snprintf(line, sizeof line, "alloc %zu bytes\n", size);
  if (n > 0) write_text(line, static_cast<std::size_t>(n));
  void* frames[24];
  const int depth = ::backtrace(frames, 24);
  ::backtrace_symbols_fd(frames + 2, depth > 2 ? depth - 2 : 0, STDERR_FILENO);  // skip ours
  write_text("\n", 1);
  t_tracing = false;
}

void count(std::size_t size) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(size, std::memory_order_relaxed);
  if (g_trace.load(std::memory_order_relaxed)) trace(size);
}

}  // namespace

AllocStats alloc_stats() {
  return {g_count.load(std::memory_order_relaxed), g_bytes.load(std::memory_order_relaxed)};
}

bool trace_allocations(bool on) {
  if (on && std::getenv("DIALBACK_ALLOC_TRACE") == nullptr) return false;
  if (on) {
    void* frames[1];
    ::backtrace(frames, 1);  // loads the unwinder now, not inside the first traced malloc
  }
  g_trace.store(on, std::memory_order_relaxed);
  return on;
}

}  // namespace dialback::bench

using dialback::bench::count;

extern "C" {

void* malloc(std::size_t size) noexcept {
  count(size);
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size) noexcept {
  count(n * size);
  return __libc_calloc(n, size);
}

void* realloc(void* ptr, std::size_t size) noexcept {
  if (ptr == nullptr || size > 0) count(size);
  return __libc_realloc(ptr, size);
}

void free(void* ptr) noexcept { __libc_free(ptr); }

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  count(size);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count(size);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  count(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t size) noexcept {
  count(size);
  return __libc_memalign(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), size);
}

void* pvalloc(std::size_t size) noexcept {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  count(size);
  return __libc_memalign(page, (size + page - 1) / page * page);
}

}  // extern "C"
