#include "process_memory.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace dialback::bench {

std::optional<long> rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      if (status >> kib) return kib;
      return std::nullopt;
    }
    status.ignore(4096, '\n');
  }
  return std::nullopt;
}

std::optional<long> open_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return std::nullopt;
  long count = 0;
  for (const auto& entry : it) {
    (void)entry;
    ++count;
  }
  return count;
}

}  // namespace dialback::bench
