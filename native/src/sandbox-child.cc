// The child of sandbox.spawn, from the clone to the execveat of kiln-init: it runs in a copy of
// one thread of Node's process, so it calls only async-signal-safe functions (signal-safety(7))
// and raw syscalls, allocates nothing, and reports any failure as a struct kiln_report on the
// report pipe before _exit (sandbox-report.h).
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <climits>

#include "sandbox-in-root.h"
#include "sandbox-plan.h"
#include "sandbox-report.h"

namespace kiln {
namespace {

void CopyText(char* to, size_t size, const char* from) {
  size_t i = 0;
  for (; i + 1 < size && from[i] != '\0'; i++) to[i] = from[i];
  to[i] = '\0';
}

[[noreturn]] void Fail(const char* stage, const char* syscall_name, int error, int index = -1) {
  kiln_report report;
  for (size_t i = 0; i < sizeof report; i++) reinterpret_cast<char*>(&report)[i] = 0;
  CopyText(report.stage, sizeof report.stage, stage);
  CopyText(report.syscall, sizeof report.syscall, syscall_name);
  report.error = error;
  report.index = index;
  ssize_t ignored = write(KILN_REPORT_FD, &report, sizeof report);
  (void)ignored;
  _exit(125);
}

// mkdir -p of `path` (a writable copy), each existing component accepted.
int MakeParents(char* path, mode_t mode) {
  for (char* p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    int result = mkdir(path, mode);
    *p = '/';
    if (result != 0 && errno != EEXIST) return -1;
  }
  if (mkdir(path, mode) != 0 && errno != EEXIST) return -1;
  return 0;
}

// A descriptor held while one operation runs, closed on return (Fail exits without).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The root, opened afresh for each operation: the root file system is mounted onto it by
// the first operations, and a descriptor opened before would see the directory beneath.
int OpenRoot(const Plan& plan, const char* stage, int index) {
  int fd = open(plan.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail(stage, "open", errno, index);
  return fd;
}

// The directory holding the target of `op`, resolved inside the root.
int OpenParent(const Plan& plan, const Operation& op, const char* stage, int index) {
  Fd root(OpenRoot(plan, stage, index));
  int fd = OpenInRoot(root.get(), op.parent.c_str(), O_DIRECTORY);
  if (fd < 0) Fail(stage, "openat2", errno, index);
  return fd;
}

// A path for mount(2) naming `path` of the plan: under the root, /proc/self/fd/N of the file
// it resolves to inside the root, whose descriptor `held` keeps open; else `path` itself.
// False when it does not exist and `missing_ok`.
bool MountPath(const Plan& plan, bool in_root, const std::string& relative, const std::string& path, bool missing_ok,
               int index, int& held, char* out, size_t size) {
  if (!in_root) {
    CopyText(out, size, path.c_str());
    return true;
  }
  Fd root(OpenRoot(plan, "mount", index));
  held = OpenInRoot(root.get(), relative.c_str(), 0);
  if (held < 0 && errno == ENOENT && missing_ok) return false;
  if (held < 0) Fail("mount", "openat2", errno, index);
  // A target that resolves to the root itself (`proc -> ..`) would cover the whole root file
  // system before pivot_root; refused.
  struct stat resolved, top;
  if (fstat(held, &resolved) != 0 || fstat(root.get(), &top) != 0) Fail("mount", "fstat", errno, index);
  if (resolved.st_dev == top.st_dev && resolved.st_ino == top.st_ino) Fail("mount", "openat2", EBUSY, index);
  ProcSelfFd(held, out, size);
  return true;
}

void RunOperation(const Plan& plan, const Operation& op, int index) {
  char target[PATH_MAX], source[PATH_MAX];
  int target_fd = -1, source_fd = -1;
  switch (op.kind) {
    case Operation::kMount: {
      if (!MountPath(plan, op.target_in_root, op.target_relative, op.target, op.optional, index, target_fd, target,
                     sizeof target)) {
        return;
      }
      Fd held_target(target_fd);
      if (op.has_source && !MountPath(plan, op.source_in_root, op.source_relative, op.source, op.optional, index,
                                      source_fd, source, sizeof source)) {
        return;
      }
      Fd held_source(source_fd);
      if (mount(op.has_source ? source : nullptr, target, op.has_fstype ? op.fstype.c_str() : nullptr, op.flags,
                op.has_data ? op.data.c_str() : nullptr) != 0) {
        Fail("mount", "mount", errno, index);
      }
      return;
    }
    case Operation::kMask: {
      // runc's maskPath: a directory is covered by an empty read-only tmpfs, anything else by
      // `source` (/dev/null); a path this kernel lacks is left alone.
      if (!MountPath(plan, op.target_in_root, op.target_relative, op.target, true, index, target_fd, target,
                     sizeof target)) {
        return;
      }
      Fd held_target(target_fd);
      struct stat status;
      if (fstat(target_fd, &status) != 0) Fail("mask", "fstat", errno, index);
      if (S_ISDIR(status.st_mode)) {
        if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
          Fail("mask", "mount", errno, index);
        }
        return;
      }
      MountPath(plan, op.source_in_root, op.source_relative, op.source, false, index, source_fd, source, sizeof source);
      Fd held_source(source_fd);
      if (mount(source, target, nullptr, MS_BIND, nullptr) != 0) Fail("mask", "mount", errno, index);
      return;
    }
    default:
      break;
  }
  if (!op.target_in_root) {
    // Outside the root only the root itself is ever a target, and it is mounted, never made.
    Fail("setup", "openat2", EXDEV, index);
  }
  switch (op.kind) {
    case Operation::kMkdir: {
      Fd parent(OpenParent(plan, op, "mkdir", index));
      if (mkdirat(parent.get(), op.name.c_str(), op.mode) != 0 && errno != EEXIST) Fail("mkdir", "mkdirat", errno, index);
      return;
    }
    case Operation::kFile: {
      // What exists is kept, a symlink to a file inside the root too; a dangling symlink is
      // not followed to create its target (EEXIST), as runc refuses it.
      Fd root(OpenRoot(plan, "file", index));
      int existing = OpenInRoot(root.get(), op.target_relative.c_str(), 0);
      if (existing >= 0) {
        close(existing);
        return;
      }
      if (errno != ENOENT) Fail("file", "openat2", errno, index);
      Fd parent(OpenParent(plan, op, "file", index));
      // mknodat(2) makes an empty regular file without opening it.
      if (mknodat(parent.get(), op.name.c_str(), S_IFREG | op.mode, 0) != 0) Fail("file", "mknodat", errno, index);
      return;
    }
    case Operation::kMknod: {
      Fd parent(OpenParent(plan, op, "mknod", index));
      if (mknodat(parent.get(), op.name.c_str(), op.mode, makedev(op.major, op.minor)) != 0 && errno != EEXIST) {
        Fail("mknod", "mknodat", errno, index);
      }
      return;
    }
    case Operation::kSymlink: {
      Fd parent(OpenParent(plan, op, "symlink", index));
      if (symlinkat(op.source.c_str(), parent.get(), op.name.c_str()) != 0 && errno != EEXIST) {
        Fail("symlink", "symlinkat", errno, index);
      }
      return;
    }
    case Operation::kMount:
    case Operation::kMask:
      return;
  }
}

// Brings the loopback interface of the new network namespace up (netdevice(7) SIOCSIFFLAGS).
void LoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("network", "socket", errno);
  struct ifreq request;
  for (size_t i = 0; i < sizeof request; i++) reinterpret_cast<char*>(&request)[i] = 0;
  CopyText(request.ifr_name, sizeof request.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) Fail("network", "ioctl", errno);
  request.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) Fail("network", "ioctl", errno);
  close(fd);
}

// execvp's search: the first regular, executable file named argv[0] in a PATH directory (an
// empty entry is the working directory), written into `out`; a name with a '/' is used as is.
bool LookUp(const char* name, const char* path_variable, char* out, size_t size) {
  size_t name_length = strlen(name);
  for (const char* p = name; *p != '\0'; p++) {
    if (*p == '/') {
      CopyText(out, size, name);
      return true;
    }
  }
  const char* start = path_variable;
  for (;;) {
    const char* end = start;
    while (*end != '\0' && *end != ':') end++;
    size_t dir_length = static_cast<size_t>(end - start);
    if (dir_length == 0) dir_length = 1, start = ".";
    if (dir_length + 1 + name_length + 1 <= size) {
      memcpy(out, start, dir_length);
      out[dir_length] = '/';
      memcpy(out + dir_length + 1, name, name_length + 1);
      struct stat status;
      if (stat(out, &status) == 0 && S_ISREG(status.st_mode) && access(out, X_OK) == 0) return true;
    }
    if (*end == '\0') return false;
    start = end + 1;
  }
}

// Installs the plan's seccomp filter on this process; kiln-init and everything it starts
// inherit it across fork and execve (seccomp(2)). No flags: this process has one thread.
void InstallSeccomp(Plan& plan) {
  if (plan.seccomp.empty()) return;
  struct sock_fprog program;
  program.len = static_cast<unsigned short>(plan.seccomp.size());
  program.filter = plan.seccomp.data();
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) Fail("seccomp", "seccomp", errno);
}

}  // namespace

[[noreturn]] void SandboxChild(Plan& plan, int init_fd, int stdin_fd, int stdout_fd, int stderr_fd, int report_fd) {
  // Node ignores SIGPIPE and handles others; an ignored signal would stay ignored across exec.
  struct sigaction action;
  for (size_t i = 0; i < sizeof action; i++) reinterpret_cast<char*>(&action)[i] = 0;
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // In a new user namespace nothing may run before the parent has mapped its ids: until then
  // this process is the overflow user, and files it makes or checks would say so. EOF without
  // the byte: the parent failed and kills this process.
  if (plan.user_namespace) {
    char go;
    ssize_t got;
    do got = read(plan.user_namespace_fd, &go, 1);
    while (got < 0 && errno == EINTR);
    if (got != 1) _exit(125);
    close(plan.user_namespace_fd);
  }
  // All the descriptors are >= 10 (HighFd), so these dup2s never overwrite one another.
  if (dup2(report_fd, KILN_REPORT_FD) < 0) _exit(125);
  // Into the run's cgroups first, before this process can fork: "0" is the writer
  // (cgroups(7), v1 and v2). Then a cgroup namespace rooted there.
  for (size_t i = 0; i < plan.cgroup_fds.size(); i++) {
    if (write(plan.cgroup_fds[i], "0", 1) != 1) Fail("cgroup", "write", errno, static_cast<int>(i));
  }
  if (unshare(CLONE_NEWCGROUP) != 0) Fail("cgroup", "unshare", errno);
  if (dup2(stdin_fd, 0) < 0) Fail("stdio", "dup2", errno);
  if (dup2(stdout_fd, 1) < 0) Fail("stdio", "dup2", errno);
  if (dup2(stderr_fd, 2) < 0) Fail("stdio", "dup2", errno);
  // Nothing else of Node's reaches the sandbox; init_fd stays open until the execveat.
  if (syscall(SYS_close_range, KILN_REPORT_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Fail("stdio", "close_range", errno);

  // Mounts made from here on stay in this mount namespace (mount_namespaces(7)).
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Fail("propagation", "mount", errno);
  // The setup's modes are exact (device nodes 0666); the command gets the umask it was given.
  umask(0);
  for (size_t i = 0; i < plan.operations.size(); i++) RunOperation(plan, plan.operations[i], static_cast<int>(i));

  // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the new
  // (pivot_root(2), NOTES).
  if (chdir(plan.root.c_str()) != 0) Fail("pivot_root", "chdir", errno);
  if (syscall(SYS_pivot_root, ".", ".") != 0) Fail("pivot_root", "pivot_root", errno);
  if (umount2(".", MNT_DETACH) != 0) Fail("pivot_root", "umount2", errno);
  if (chdir("/") != 0) Fail("pivot_root", "chdir", errno);

  if (sethostname(plan.hostname.c_str(), plan.hostname.size()) != 0) Fail("hostname", "sethostname", errno);
  if (plan.new_network) LoopbackUp();
  // The working directory is created as root when missing, as Docker does for WORKDIR.
  if (MakeParents(plan.cwd_buffer.data(), 0755) != 0) Fail("cwd", "mkdir", errno);

  for (size_t i = 0; i < plan.rlimits.size(); i++) {
    if (setrlimit(static_cast<__rlimit_resource>(plan.rlimits[i].resource), &plan.rlimits[i].limit) != 0) {
      Fail("rlimits", "setrlimit", errno, -1);
    }
  }
  // The filter goes on as late as it can, so that the setup above may mount, pivot_root and
  // set the hostname, which it forbids. Without no_new_privs, installing one needs
  // CAP_SYS_ADMIN (seccomp(2)), so here, before the capabilities go; the calls left until the
  // exec (prctl, setgroups, setres[ug]id, capset, chdir, stat, access, poll, execveat) are ones
  // a filter for a sandbox allows. With no_new_privs it waits until that is set, just before
  // the exec, as runc orders them.
  if (!plan.no_new_privileges) InstallSeccomp(plan);
  // The bounding set limits what any later execve can gain, a set-user-ID root file's too
  // (capabilities(7)); dropping needs CAP_SETPCAP, so before the user changes. EINVAL past
  // the kernel's last capability.
  for (int capability = 0; capability < 64; capability++) {
    if ((plan.capabilities >> capability & 1) != 0) continue;
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      Fail("capabilities", "prctl", errno);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    Fail("capabilities", "prctl", errno);
  }

  if (syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) != 0) Fail("user", "setgroups", errno);
  if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) Fail("user", "setresgid", errno);
  // A change to non-zero uids clears the permitted and effective sets: a user other than
  // root runs with none.
  if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) Fail("user", "setresuid", errno);
  if (plan.uid == 0) {
    // Root keeps the given set, effective and permitted; nothing inheritable (as Docker since
    // CVE-2022-24769).
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; i++) {
      data[i].effective = data[i].permitted = static_cast<uint32_t>(plan.capabilities >> (32 * i));
      data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &header, data) != 0) Fail("capabilities", "capset", errno);
  }
  if (chdir(plan.cwd.c_str()) != 0) Fail("cwd", "chdir", errno);
  umask(plan.umask);

  if (!LookUp(plan.argv[0].c_str(), plan.path_variable.c_str(), plan.resolved_buffer.data(),
              plan.resolved_buffer.size())) {
    Fail("lookup", "execvp", ENOENT);
  }

  // This process becomes kiln-init, PID 1 of the namespace: when kiln's thread that cloned it
  // dies (even by SIGKILL) the kernel kills it, and with it every process of the namespace.
  // Set after setresuid, which clears it (prctl(2) PR_SET_PDEATHSIG).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail("pdeathsig", "prctl", errno);
  // kiln may have died before the prctl: then no one reads the report pipe (pipe(7): POLLERR
  // on the write end).
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail("no_new_privs", "prctl", errno);
  if (plan.no_new_privileges) InstallSeccomp(plan);
  struct pollfd check = {KILN_REPORT_FD, POLLOUT, 0};
  if (poll(&check, 1, 0) == 1 && (check.revents & POLLERR) != 0) _exit(125);

  syscall(SYS_execveat, init_fd, "", plan.init_argv.data(), plan.envp.data(), AT_EMPTY_PATH);
  Fail("exec-init", "execveat", errno);
}

}  // namespace kiln
