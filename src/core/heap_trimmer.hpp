// HeapTrimmer: hands freed heap memory back to the system a moment after
// something large was freed. glibc keeps freed memory in the process (it
// only shrinks the heap from its top), so an edge that held 10 000 agent
// sessions would otherwise keep their ~450 MiB after they all left.
// released() is cheap; the trim (malloc_trim) runs once, `delay` after the
// first call of a burst. A no-op where malloc_trim does not exist.
//
// All calls on the executor's thread. Destroying the trimmer cancels a
// pending trim.
#pragma once

#include <chrono>
#include <memory>

#include "core/asio.hpp"

namespace dialback {

class HeapTrimmer {
 public:
  explicit HeapTrimmer(asio::any_io_executor executor,
                       std::chrono::milliseconds delay = std::chrono::seconds(1));
  ~HeapTrimmer();
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

  // Something worth giving back was freed (a session ended).
  void released();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the timer handler
};

}  // namespace dialback
