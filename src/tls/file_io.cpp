#include "tls/file_io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dialback {
namespace {

constexpr off_t kMaxFileSize = 1 << 20;

std::error_code last_errno() { return {errno, std::generic_category()}; }

// Closes the descriptor when the scope ends.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the close error (write errors may surface here).
  Result<void> close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return fail(last_errno());
    return {};
  }

 private:
  int fd_;
};

Result<void> write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(last_errno());
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<std::string> read_small_file(const std::filesystem::path& path) {
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(last_errno());
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fail(last_errno());
  if (!S_ISREG(info.st_mode)) return fail(std::make_error_code(std::errc::invalid_argument));
  if (info.st_size > kMaxFileSize) return fail(std::make_error_code(std::errc::file_too_large));
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(last_errno());
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > static_cast<std::size_t>(kMaxFileSize)) {
      return fail(std::make_error_code(std::errc::file_too_large));
    }
  }
  return content;
}

Result<void> write_new_file(const std::filesystem::path& path, std::string_view content,
                            mode_t mode) {
  FdGuard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return fail(last_errno());
  Result<void> written = write_all(fd.get(), content);
  if (written && ::fsync(fd.get()) != 0) written = fail(last_errno());
  if (written) written = fd.close();
  if (!written) ::unlink(path.c_str());
  return written;
}

Result<void> replace_file(const std::filesystem::path& path, std::string_view content,
                          mode_t mode) {
  std::string temp = path.string() + ".tmp-XXXXXX";
  FdGuard fd(::mkostemp(temp.data(), O_CLOEXEC));  // created with mode 0600
  if (fd.get() < 0) return fail(last_errno());
  Result<void> written = write_all(fd.get(), content);
  if (written && ::fchmod(fd.get(), mode) != 0) written = fail(last_errno());
  if (written && ::fsync(fd.get()) != 0) written = fail(last_errno());
  if (written) written = fd.close();
  if (written && ::rename(temp.c_str(), path.c_str()) != 0) written = fail(last_errno());
  if (!written) ::unlink(temp.c_str());
  return written;
}

}  // namespace dialback
