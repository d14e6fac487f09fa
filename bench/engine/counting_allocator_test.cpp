// The counting allocator sees what it must: N allocations of any kind count
// as N, and their bytes add up.
#include "counting_allocator.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace dialback::bench {
namespace {

// Keeps the compiler from removing an allocation whose result is unused.
void escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

TEST(CountingAllocator, CountsMallocFamily) {
  constexpr int kRounds = 100;
  const auto before = alloc_stats();
  for (int i = 0; i < kRounds; ++i) {
    void* a = std::malloc(100);
    escape(a);
    void* b = std::calloc(4, 25);
    escape(b);
    void* c = std::realloc(a, 1000);  // counted: it may have to move
    escape(c);
    void* d = nullptr;
    ASSERT_EQ(posix_memalign(&d, 64, 100), 0);
    escape(d);
    void* e = std::aligned_alloc(64, 128);
    escape(e);
    std::free(c);
    std::free(b);
    std::free(d);
    std::free(e);
  }
  const auto after = alloc_stats();
  EXPECT_EQ(after.count - before.count, 5u * kRounds);
  EXPECT_EQ(after.bytes - before.bytes, (100u + 100u + 1000u + 100u + 128u) * kRounds);
}

TEST(CountingAllocator, CountsOperatorNew) {
  constexpr int kRounds = 50;
  const auto before = alloc_stats();
  for (int i = 0; i < kRounds; ++i) {
    auto* n = new int(i);
    escape(n);
    delete n;
    std::string s(100, 'x');  // beyond the small-string buffer: one allocation
    escape(s.data());
    auto shared = std::make_shared<long>(i);  // object and control block together
    escape(shared.get());
  }
  const auto after = alloc_stats();
  EXPECT_EQ(after.count - before.count, 3u * kRounds);
}

TEST(CountingAllocator, FreeIsNotAnAllocation) {
  void* p = std::malloc(10);
  escape(p);
  const auto before = alloc_stats();
  std::free(p);
  EXPECT_EQ(alloc_stats().count, before.count);
}

}  // namespace
}  // namespace dialback::bench
