// H2MemoryPool: freed blocks come back from the free lists, contents survive
// realloc, calloc zeroes, and no more than the cap stays cached.
#include "transport/h2/h2_memory_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace dialback::h2 {
namespace {

TEST(H2MemoryPool, FreedBlockIsReusedForTheSameSizeClass) {
  H2MemoryPool pool(64u << 10);
  void* first = pool.allocate(100);
  ASSERT_NE(first, nullptr);
  pool.release(first);
  EXPECT_EQ(pool.cached_bytes(), 128u);
  EXPECT_EQ(pool.allocate(90), first);  // 90 and 100 share the 128-byte class
  EXPECT_EQ(pool.cached_bytes(), 0u);
  void* other = pool.allocate(1000);    // another class: not the cached block
  EXPECT_NE(other, first);
  pool.release(first);
  pool.release(other);
}

TEST(H2MemoryPool, BlocksAreAlignedAndWritable) {
  H2MemoryPool pool(64u << 10);
  std::vector<void*> blocks;
  for (std::size_t size : {1u, 47u, 48u, 49u, 2000u, 4080u, 4081u, 100000u}) {
    void* block = pool.allocate(size);
    ASSERT_NE(block, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % alignof(std::max_align_t), 0u) << size;
    std::memset(block, 0xab, size);
    blocks.push_back(block);
  }
  for (void* block : blocks) pool.release(block);
  EXPECT_LE(pool.cached_bytes(), 64u << 10);
}

TEST(H2MemoryPool, ReallocateKeepsContents) {
  H2MemoryPool pool(64u << 10);
  auto* text = static_cast<char*>(pool.allocate(10));
  std::memcpy(text, "0123456789", 10);
  text = static_cast<char*>(pool.reallocate(text, 40));  // still fits its 64-byte block
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(std::memcmp(text, "0123456789", 10), 0);
  text = static_cast<char*>(pool.reallocate(text, 10000));  // moves to an unpooled block
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(std::memcmp(text, "0123456789", 10), 0);
  text = static_cast<char*>(pool.reallocate(text, 20));  // shrinking keeps the block
  EXPECT_EQ(std::memcmp(text, "0123456789", 10), 0);
  pool.release(text);
}

TEST(H2MemoryPool, AllocateZeroedClearsReusedMemory) {
  H2MemoryPool pool(64u << 10);
  void* dirty = pool.allocate(200);
  std::memset(dirty, 0xff, 200);
  pool.release(dirty);
  auto* clean = static_cast<unsigned char*>(pool.allocate_zeroed(50, 4));
  ASSERT_EQ(static_cast<void*>(clean), dirty);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(clean[i], 0) << i;
  pool.release(clean);
  EXPECT_EQ(pool.allocate_zeroed(std::size_t(1) << 62, 8), nullptr);  // overflow
}

TEST(H2MemoryPool, CachesNoMoreThanItsCapAndTrimEmptiesIt) {
  H2MemoryPool pool(1024);
  std::vector<void*> blocks;
  for (int i = 0; i < 20; ++i) blocks.push_back(pool.allocate(200));  // 256-byte blocks
  for (void* block : blocks) pool.release(block);
  EXPECT_EQ(pool.cached_bytes(), 1024u);
  pool.trim();
  EXPECT_EQ(pool.cached_bytes(), 0u);
}

}  // namespace
}  // namespace dialback::h2
