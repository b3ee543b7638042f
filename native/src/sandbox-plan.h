// The plan of a sandbox: everything sandbox-spawn.cc converts from the options before the
// clone, as C data the child reads without allocating, and the child's entry point
// (sandbox-child.cc).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// One step of the root file system's setup, run in order by the child before pivot_root.
struct Operation {
  enum Kind { kMount, kMkdir, kFile, kMknod, kSymlink, kMask } kind;
  std::string source, target, fstype, data;  // mount; target is the path for the others
  bool has_source = false, has_fstype = false, has_data = false;
  unsigned long flags = 0;                   // mount
  uint32_t mode = 0, major = 0, minor = 0;   // mkdir, file, mknod
  bool optional = false;                     // mount: skipped when its target is missing
  // A target (or a mount's source) under the root, relative to it, resolved inside the root
  // by the child (sandbox-in-root.h); a path outside it (the root itself) is used as is.
  bool target_in_root = false, source_in_root = false;
  std::string target_relative, source_relative;
  std::string parent, name;  // target_relative cut at its last '/': parent "" is the root
};

struct Rlimit {
  int resource;
  struct rlimit limit;
};

// Everything the child needs, as C data that stays valid through the clone.
struct Plan {
  std::vector<Operation> operations;
  std::string root, hostname, cwd, path_variable, init_path;
  bool new_network = false;
  uint32_t uid = 0, gid = 0, umask = 022;
  std::vector<gid_t> groups;
  uint64_t capabilities = 0;  // the bounding set kept; root's effective and permitted set too
  bool no_new_privileges = false;
  // A seccomp filter (struct sock_filter entries, copied from the options) installed before
  // the exec of kiln-init; none when empty.
  std::vector<sock_filter> seccomp;
  std::vector<Rlimit> rlimits;
  // CLONE_NEWUSER: the child waits on `user_namespace_fd` (the read end of a pipe, >= 10,
  // close-on-exec) until the parent has written its /proc/PID/uid_map and gid_map, the
  // texts below ("container host size" lines), and a byte to go on.
  bool user_namespace = false;
  std::string uid_map, gid_map;
  int user_namespace_fd = -1;
  // cgroup.procs files the child joins (writes "0" into) before anything else, and their
  // descriptors, opened for writing before the clone (>= 10, close-on-exec).
  std::vector<std::string> cgroup_procs;
  std::vector<int> cgroup_fds;
  std::vector<std::string> argv, env;
  std::vector<char*> init_argv;  // "kiln-init", <resolved command>, argv…, NULL
  std::vector<char*> envp;
  std::vector<char> cwd_buffer;       // the child cuts it at each '/' to create the parents
  std::vector<char> resolved_buffer;  // the command found on PATH
};

// The cloned child: sets the sandbox up as `plan` says and execs kiln-init, or reports a
// failure on KILN_REPORT_FD and exits. Async-signal-safe only. The descriptors are >= 10.
[[noreturn]] void SandboxChild(Plan& plan, int init_fd, int stdin_fd, int stdout_fd, int stderr_fd, int report_fd);

}  // namespace kiln
