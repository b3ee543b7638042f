// Paths of the root file system resolved without leaving it, for the cloned child
// (sandbox-child.cc): async-signal-safe, raw syscalls only, nothing allocated.
//
// Before pivot_root the child's mount namespace still holds the host's file system, so a
// symbolic link of the rootfs (`etc -> /var/lib/x`, `proc -> ../../..`) followed by an
// absolute-path mkdir or mount would reach the host. Every path under the root is instead
// opened with openat2(2) RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6): a symlink is
// followed as if the root were `/`, `..` stops at it. Directories and files are then made with
// the *at calls relative to the descriptor of their resolved parent, and a mount goes onto
// /proc/self/fd/N of the resolved target, as runc does since CVE-2021-30465.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln {

// `path` (relative to `root_fd`, "." for the root itself) opened O_PATH | O_CLOEXEC | `flags`
// inside the root; -1 with errno set on failure (ENOSYS: a kernel without openat2).
int OpenInRoot(int root_fd, const char* path, uint64_t flags);

// "/proc/self/fd/<fd>" written into `out` (at least 32 bytes): the path that reaches the very
// file `fd` was opened on, whatever has happened to its name since (proc(5)).
void ProcSelfFd(int fd, char* out, size_t size);

}  // namespace kiln
