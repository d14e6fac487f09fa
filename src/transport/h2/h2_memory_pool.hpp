// H2MemoryPool: the allocator an H2Engine gives its nghttp2 session
// (nghttp2_mem). nghttp2 allocates and frees a few small blocks for every
// stream: the stream itself, each queued frame, the copy of a submitted
// header list, HPACK table entries and decoded header values. The pool keeps
// freed blocks on one free list per size class and hands them out again, so
// a busy session stops calling malloc for them. Blocks above the largest
// class go straight to malloc. At most `max_cached_bytes` are kept unused;
// trim() gives them all back. Single-threaded, like the engine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <nghttp2/nghttp2.h>

namespace dialback::h2 {

class H2MemoryPool {
 public:
  explicit H2MemoryPool(std::size_t max_cached_bytes);
  ~H2MemoryPool();
  H2MemoryPool(const H2MemoryPool&) = delete;
  H2MemoryPool& operator=(const H2MemoryPool&) = delete;

  // Size classes: blocks of 64, 128 ... 4096 bytes, a 16-byte header included.
  static constexpr std::size_t kClasses = 7;

  // For nghttp2_session_*_new3; valid while the pool lives.
  nghttp2_mem* mem() { return &mem_; }

  void* allocate(std::size_t size);
  void* allocate_zeroed(std::size_t count, std::size_t size);
  void* reallocate(void* block, std::size_t size);
  void release(void* block);

  // Frees every cached block.
  void trim();
  std::size_t cached_bytes() const { return cached_bytes_; }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };

  std::array<FreeBlock*, kClasses> free_{};
  std::size_t cached_bytes_ = 0;
  std::size_t max_cached_bytes_;
  nghttp2_mem mem_;
};

}  // namespace dialback::h2
