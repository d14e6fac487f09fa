// StreamWaiter: what an engine's per-stream state wakes whenever it changes
// (data in, room out, closed): the coroutine-facing handle on that stream.
#pragma once

namespace dialback {

class StreamWaiter {
 public:
  virtual void wake() = 0;

 protected:
  ~StreamWaiter() = default;
};

}  // namespace dialback
