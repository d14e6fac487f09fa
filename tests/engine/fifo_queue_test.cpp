// FifoQueue: order, freeing on pop, compaction for a reader that never
// catches up, and moves that leave an empty queue behind.
#include "transport/h2/fifo_queue.hpp"

#include <string>

#include <gtest/gtest.h>

namespace dialback::h2 {
namespace {

TEST(FifoQueue, FirstInFirstOut) {
  FifoQueue<std::string> queue;
  EXPECT_TRUE(queue.empty());
  queue.emplace_back("one");
  queue.emplace_back("two");
  queue.emplace_back(3, 'x');
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.front(), "one");
  queue.pop_front();
  EXPECT_EQ(queue.front(), "two");
  queue.pop_front();
  queue.emplace_back("four");
  EXPECT_EQ(queue.front(), "xxx");
  queue.pop_front();
  EXPECT_EQ(queue.front(), "four");
  queue.pop_front();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
}

TEST(FifoQueue, ReaderOneBehindKeepsOrderThroughCompaction) {
  FifoQueue<std::string> queue;
  int next_in = 0;
  int next_out = 0;
  queue.emplace_back(std::to_string(next_in++));
  for (int i = 0; i < 1000; ++i) {  // never empty: only compaction keeps the vector small
    queue.emplace_back(std::to_string(next_in++));
    ASSERT_EQ(queue.front(), std::to_string(next_out++));
    queue.pop_front();
    ASSERT_EQ(queue.size(), 1u);
  }
  EXPECT_EQ(queue.front(), std::to_string(next_out));
}

TEST(FifoQueue, MovedFromQueueIsEmpty) {
  FifoQueue<std::string> queue;
  queue.emplace_back("a");
  queue.emplace_back("b");
  queue.pop_front();
  FifoQueue<std::string> moved(std::move(queue));
  EXPECT_TRUE(queue.empty());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(moved.front(), "b");
  queue.emplace_back("c");
  EXPECT_EQ(queue.front(), "c");
  FifoQueue<std::string> assigned;
  assigned = std::move(moved);
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned.front(), "b");
}

}  // namespace
}  // namespace dialback::h2
