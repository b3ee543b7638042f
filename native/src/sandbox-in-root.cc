// Resolution inside the root file system for the cloned child: see sandbox-in-root.h.
#include "sandbox-in-root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace kiln {

int OpenInRoot(int root_fd, const char* path, uint64_t flags) {
  struct open_how how;
  for (size_t i = 0; i < sizeof how; i++) reinterpret_cast<char*>(&how)[i] = 0;
  how.flags = O_PATH | O_CLOEXEC | flags;
  // RESOLVE_IN_ROOT: absolute symlinks and `..` are scoped to root_fd (openat2(2)); no magic
  // links either, so /proc/<pid>/root or fd links in a mounted proc cannot lead out.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = syscall(SYS_openat2, root_fd, path[0] == '\0' ? "." : path, &how, sizeof how);
    // EAGAIN: a rename or mount raced the lookup under RESOLVE_IN_ROOT's checks; retry.
    if (fd < 0 && errno == EAGAIN) continue;
    return static_cast<int>(fd);
  }
}

void ProcSelfFd(int fd, char* out, size_t size) {
  const char prefix[] = "/proc/self/fd/";
  char digits[16];
  size_t count = 0;
  unsigned value = static_cast<unsigned>(fd);
  do digits[count++] = static_cast<char>('0' + value % 10);
  while ((value /= 10) != 0 && count < sizeof digits);
  size_t at = 0;
  for (size_t i = 0; prefix[i] != '\0' && at + 1 < size; i++) out[at++] = prefix[i];
  while (count > 0 && at + 1 < size) out[at++] = digits[--count];
  out[at] = '\0';
}

}  // namespace kiln
