// FifoQueue<T>: first in, first out, over a vector and a read position.
// Used instead of std::deque for a stream's received body chunks and 1xx
// heads: libstdc++'s deque allocates even while empty (two blocks per
// queue, per stream), and the vector keeps its capacity across clear(), so
// a reused stream state queues without allocating.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace dialback::h2 {

template <class T>
class FifoQueue {
 public:
  FifoQueue() = default;
  FifoQueue(FifoQueue&& other) noexcept
      : items_(std::move(other.items_)), first_(std::exchange(other.first_, 0)) {
    other.items_.clear();
  }
  FifoQueue& operator=(FifoQueue&& other) noexcept {
    items_ = std::move(other.items_);
    first_ = std::exchange(other.first_, 0);
    other.items_.clear();
    return *this;
  }

  bool empty() const { return first_ == items_.size(); }
  std::size_t size() const { return items_.size() - first_; }
  std::size_t capacity() const { return items_.capacity(); }
  T& front() { return items_[first_]; }
  const T& front() const { return items_[first_]; }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }

  // Drops the oldest item; its memory is freed now, not when the queue empties.
  void pop_front() {
    std::destroy_at(&items_[first_]);
    std::construct_at(&items_[first_]);
    if (++first_ == items_.size()) {
      clear();
    } else if (first_ >= kCompactAfter && first_ * 2 >= items_.size()) {
      // A reader that never catches up: drop the taken prefix (amortized O(1)).
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(first_));
      first_ = 0;
    }
  }

  void clear() {
    items_.clear();
    first_ = 0;
  }

 private:
  static constexpr std::size_t kCompactAfter = 16;
  std::vector<T> items_;
  std::size_t first_ = 0;  // index of the oldest item
};

}  // namespace dialback::h2
