// What /proc says about a process: resident memory and open descriptors.
// Linux only; used by the scale benchmark to watch the edge from outside.
#pragma once

#include <optional>
#include <sys/types.h>

namespace dialback::bench {

// VmRSS of `pid` in KiB; nullopt when the process is gone.
std::optional<long> rss_kib(pid_t pid);

// Number of entries in /proc/PID/fd; nullopt when the process is gone.
std::optional<long> open_fds(pid_t pid);

}  // namespace dialback::bench
