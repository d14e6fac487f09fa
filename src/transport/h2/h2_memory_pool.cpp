#include "transport/h2/h2_memory_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace dialback::h2 {
namespace {

constexpr std::size_t kSmallestBlock = 64;
constexpr std::uint32_t kUnpooled = std::numeric_limits<std::uint32_t>::max();

// In front of every block: what was asked for and where the block goes back.
// 16 bytes, so the caller's memory keeps malloc's alignment.
struct alignas(alignof(std::max_align_t)) Header {
  std::size_t size;
  std::uint32_t size_class;
};
static_assert(sizeof(Header) == alignof(std::max_align_t));

Header* header_of(void* block) { return static_cast<Header*>(block) - 1; }

std::size_t block_bytes(std::uint32_t size_class) { return kSmallestBlock << size_class; }

std::uint32_t class_for(std::size_t size) {
  constexpr std::size_t kLargest = kSmallestBlock << (H2MemoryPool::kClasses - 1);
  if (size > kLargest - sizeof(Header)) return kUnpooled;
  std::uint32_t size_class = 0;
  while (block_bytes(size_class) < size + sizeof(Header)) ++size_class;
  return size_class;
}

}  // namespace

H2MemoryPool::H2MemoryPool(std::size_t max_cached_bytes) : max_cached_bytes_(max_cached_bytes) {
  mem_.mem_user_data = this;
  mem_.malloc = [](std::size_t size, void* pool) {
    return static_cast<H2MemoryPool*>(pool)->allocate(size);
  };
  mem_.free = [](void* block, void* pool) { static_cast<H2MemoryPool*>(pool)->release(block); };
  mem_.calloc = [](std::size_t count, std::size_t size, void* pool) {
    return static_cast<H2MemoryPool*>(pool)->allocate_zeroed(count, size);
  };
  mem_.realloc = [](void* block, std::size_t size, void* pool) {
    return static_cast<H2MemoryPool*>(pool)->reallocate(block, size);
  };
}

H2MemoryPool::~H2MemoryPool() { trim(); }

void* H2MemoryPool::allocate(std::size_t size) {
  const std::uint32_t size_class = class_for(size);
  void* memory = nullptr;
  if (size_class != kUnpooled && free_[size_class] != nullptr) {
    FreeBlock* block = free_[size_class];
    free_[size_class] = block->next;
    cached_bytes_ -= block_bytes(size_class);
    memory = block;
  } else {
    const std::size_t bytes =
        size_class != kUnpooled ? block_bytes(size_class) : sizeof(Header) + size;
    if (bytes < size) return nullptr;  // overflow
    memory = std::malloc(bytes);
    if (memory == nullptr) return nullptr;
  }
  return new (memory) Header{size, size_class} + 1;
}

void* H2MemoryPool::allocate_zeroed(std::size_t count, std::size_t size) {
  if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) return nullptr;
  void* block = allocate(count * size);
  if (block != nullptr) std::memset(block, 0, count * size);
  return block;
}

void* H2MemoryPool::reallocate(void* block, std::size_t size) {
  if (block == nullptr) return allocate(size);
  if (size == 0) {
    release(block);
    return nullptr;
  }
  Header* header = header_of(block);
  if (header->size_class != kUnpooled &&
      sizeof(Header) + size <= block_bytes(header->size_class)) {
    header->size = size;  // still fits
    return block;
  }
  void* moved = allocate(size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, block, std::min(size, header->size));
  release(block);
  return moved;
}

void H2MemoryPool::release(void* block) {
  if (block == nullptr) return;
  Header* header = header_of(block);
  const std::uint32_t size_class = header->size_class;
  if (size_class == kUnpooled || cached_bytes_ + block_bytes(size_class) > max_cached_bytes_) {
    std::free(header);
    return;
  }
  free_[size_class] = new (header) FreeBlock{free_[size_class]};
  cached_bytes_ += block_bytes(size_class);
}

void H2MemoryPool::trim() {
  for (auto& list : free_) {
    while (list != nullptr) {
      FreeBlock* next = list->next;
      std::free(list);
      list = next;
    }
  }
  cached_bytes_ = 0;
}

}  // namespace dialback::h2
