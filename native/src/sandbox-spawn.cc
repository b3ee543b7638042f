// sandbox.spawn: clone3(2) a child into new mount, pid, uts, ipc, cgroup, (unless the host
// network is asked for) net and (when asked) user namespaces, let it set up its root file system
// from the list of operations TypeScript computed, pivot_root(2) into it, install its seccomp
// filter, and execveat(2) kiln-init as PID 1, which runs the command.
//
// The clone happens on Node's main thread, in a process with many threads: the child is a copy
// of this one thread and may run only async-signal-safe code (signal-safety(7)). So every
// string and array is converted to C before the clone, the child calls raw syscalls only
// (glibc's setuid family would try to signal the parent's other threads, which the child does
// not have), and it reports a failure through a CLOEXEC pipe as a fixed record (stage, syscall,
// errno) before _exit. The parent reads the pipe until EOF: EOF means the command was exec'd
// (kiln-init inherits the pipe and closes it when its own execve succeeds).
//
// kiln-init is opened O_PATH before the clone and exec'd through that descriptor, so nothing
// is mounted into the rootfs for it (a RUN step's upper dir stays clean, and a read-only rootfs
// needs no mount point) and the sandbox cannot reach its file.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "arguments.h"
#include "errno-error.h"
#include "sandbox-plan.h"
#include "sandbox-report.h"
#include "sandbox.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace kiln {
namespace {

// What the child of a CLONE_VM clone is given: it starts in ChildMain on a stack of its own.
struct ChildStart {
  Plan* plan;
  int init_fd, stdin_fd, stdout_fd, stderr_fd, report_fd;
};

int ChildMain(void* arg) {
  auto* start = static_cast<ChildStart*>(arg);
  SandboxChild(*start->plan, start->init_fd, start->stdin_fd, start->stdout_fd, start->stderr_fd, start->report_fd);
}

// The child's stack when it shares the parent's memory until its exec.
constexpr size_t kChildStack = 1 << 20;

constexpr const char* kFunction = "spawn";
// execvp's default search path when the environment has no PATH (glibc's _CS_PATH plus sbin,
// as runc and Docker set it).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The field `name` of `op`, read under the label `setup[i].name` so errors name the element.
Napi::Object Labelled(const Napi::Object& op, const std::string& label, std::initializer_list<const char*> names) {
  Napi::Object holder = Napi::Object::New(op.Env());
  for (const char* name : names) holder.Set(label + "." + name, op.Get(name));
  return holder;
}

Operation ReadOperation(const Napi::Object& op, size_t index) {
  const std::string label = "setup[" + std::to_string(index) + "]";
  auto at = [&](const char* name) { return label + "." + name; };
  Napi::Object fields = Labelled(op, label, {"kind", "source", "target", "fstype", "data", "flags", "path", "mode",
                                              "major", "minor", "optional"});
  Operation result{};
  const std::string kind = StringField(fields, kFunction, at("kind").c_str(), false);
  auto optional = [&](const char* name, std::string& value, bool& present) {
    present = !op.Get(name).IsUndefined();
    if (present) value = StringField(fields, kFunction, at(name).c_str(), true);
  };
  if (kind == "mount") {
    result.kind = Operation::kMount;
    optional("source", result.source, result.has_source);
    optional("fstype", result.fstype, result.has_fstype);
    optional("data", result.data, result.has_data);
    result.target = StringField(fields, kFunction, at("target").c_str(), false);
    result.flags = UintField(fields, kFunction, at("flags").c_str(), UINT32_MAX);
    result.optional = !op.Get("optional").IsUndefined() && BoolField(fields, kFunction, at("optional").c_str());
  } else if (kind == "mask") {
    result.kind = Operation::kMask;
    result.target = StringField(fields, kFunction, at("path").c_str(), false);
    result.source = StringField(fields, kFunction, at("source").c_str(), false);
    result.has_source = true;
  } else if (kind == "mkdir" || kind == "file") {
    result.kind = kind == "mkdir" ? Operation::kMkdir : Operation::kFile;
    result.target = StringField(fields, kFunction, at("path").c_str(), false);
    result.mode = UintField(fields, kFunction, at("mode").c_str(), 07777);
  } else if (kind == "mknod") {
    result.kind = Operation::kMknod;
    result.target = StringField(fields, kFunction, at("path").c_str(), false);
    result.mode = UintField(fields, kFunction, at("mode").c_str(), 0177777);
    result.major = UintField(fields, kFunction, at("major").c_str(), 0xfff);
    result.minor = UintField(fields, kFunction, at("minor").c_str(), 0xfffff);
  } else if (kind == "symlink") {
    result.kind = Operation::kSymlink;
    result.source = StringField(fields, kFunction, at("target").c_str(), false);
    result.target = StringField(fields, kFunction, at("path").c_str(), false);
  } else {
    throw Napi::RangeError::New(op.Env(), std::string(kFunction) + ": " + at("kind") +
                                              " must be \"mount\", \"mkdir\", \"file\", \"mknod\", \"symlink\" or \"mask\", got \"" +
                                              kind + "\"");
  }
  return result;
}

// `path` relative to `root` into `relative` when it lies under it ("" for `root/`).
bool UnderRoot(const std::string& root, const std::string& path, std::string& relative) {
  std::string prefix = root;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix == "/" || path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0 ||
      path[prefix.size()] != '/') {
    return false;
  }
  size_t start = prefix.size();
  while (start < path.size() && path[start] == '/') start++;
  relative = path.substr(start);
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  return true;
}

// Marks the paths of `op` the child must resolve inside the root (sandbox-in-root.h). A
// symlink's target is the link's text, never resolved.
void InRoot(const std::string& root, Operation& op) {
  op.target_in_root = UnderRoot(root, op.target, op.target_relative);
  if (op.target_in_root) {
    size_t slash = op.target_relative.rfind('/');
    op.parent = slash == std::string::npos ? "" : op.target_relative.substr(0, slash);
    op.name = slash == std::string::npos ? op.target_relative : op.target_relative.substr(slash + 1);
  }
  if (op.kind == Operation::kMount || op.kind == Operation::kMask) {
    op.source_in_root = op.has_source && UnderRoot(root, op.source, op.source_relative);
  }
}

// A limit: an integer from 0 to 2^53, or Infinity for RLIM_INFINITY.
rlim_t LimitField(const Napi::Object& fields, const std::string& name) {
  Napi::Value value = fields.Get(name);
  if (value.IsNumber() && std::isinf(value.As<Napi::Number>().DoubleValue()) &&
      value.As<Napi::Number>().DoubleValue() > 0) {
    return RLIM_INFINITY;
  }
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (std::trunc(number) == number && number >= 0 && number <= 9007199254740992.0) {
      return static_cast<rlim_t>(number);
    }
  }
  throw Napi::TypeError::New(fields.Env(), std::string(kFunction) + ": " + name +
                                               " must be an integer from 0 to 2^53 or Infinity, got " +
                                               value.ToString().Utf8Value());
}

// An id map of the options (`uidMappings` or `gidMappings`) as the text of /proc/PID/uid_map:
// one "containerId hostId size" line per range (user_namespaces(7)).
std::string IdMap(const Napi::Object& options, const char* field) {
  // The kernel's limit on lines since Linux 4.15.
  constexpr size_t kMaxLines = 340;
  constexpr uint64_t kIds = uint64_t{UINT32_MAX};  // ids 0 to 2^32 - 2; -1 is no id
  std::vector<Napi::Object> ranges = ObjectArrayField(options, kFunction, field);
  if (ranges.empty() || ranges.size() > kMaxLines) {
    throw Napi::RangeError::New(options.Env(), std::string(kFunction) + ": " + field + " must hold 1 to " +
                                                   std::to_string(kMaxLines) + " ranges with userNamespace, got " +
                                                   std::to_string(ranges.size()));
  }
  std::string text;
  for (size_t i = 0; i < ranges.size(); i++) {
    const std::string label = std::string(field) + "[" + std::to_string(i) + "]";
    Napi::Object fields = Labelled(ranges[i], label, {"containerId", "hostId", "size"});
    uint64_t container = UintField(fields, kFunction, (label + ".containerId").c_str(), UINT32_MAX - 1);
    uint64_t host = UintField(fields, kFunction, (label + ".hostId").c_str(), UINT32_MAX - 1);
    uint64_t size = UintField(fields, kFunction, (label + ".size").c_str(), UINT32_MAX);
    if (size == 0 || container + size > kIds || host + size > kIds) {
      throw Napi::RangeError::New(options.Env(), std::string(kFunction) + ": " + label +
                                                     " must cover 1 or more ids, none past 4294967294");
    }
    text += std::to_string(container) + " " + std::to_string(host) + " " + std::to_string(size) + "\n";
  }
  return text;
}

Plan ReadPlan(const Napi::CallbackInfo& info) {
  Napi::Object options = OptionsArgument(info, kFunction);
  Plan plan;
  plan.init_path = StringField(options, kFunction, "init", false);
  plan.argv = StringArrayField(options, kFunction, "argv");
  if (plan.argv.empty() || plan.argv[0].empty()) {
    throw Napi::RangeError::New(info.Env(), "spawn: argv must start with a non-empty command");
  }
  plan.env = StringArrayField(options, kFunction, "env");
  plan.cwd = StringField(options, kFunction, "cwd", false);
  if (plan.cwd[0] != '/') throw Napi::RangeError::New(info.Env(), "spawn: cwd must be absolute, got \"" + plan.cwd + "\"");
  plan.root = StringField(options, kFunction, "root", false);
  plan.hostname = StringField(options, kFunction, "hostname", false);
  plan.new_network = BoolField(options, kFunction, "newNetwork");
  plan.uid = UintField(options, kFunction, "uid", UINT32_MAX - 1);
  plan.gid = UintField(options, kFunction, "gid", UINT32_MAX - 1);
  plan.umask = UintField(options, kFunction, "umask", 0777);
  for (uint32_t group : UintArrayField(options, kFunction, "groups", UINT32_MAX - 1)) plan.groups.push_back(group);
  for (uint32_t capability : UintArrayField(options, kFunction, "capabilities", 63)) {
    plan.capabilities |= uint64_t{1} << capability;
  }
  plan.no_new_privileges = BoolField(options, kFunction, "noNewPrivileges");
  if (!options.Get("seccomp").IsUndefined()) {
    // Copied now: the bytes belong to JavaScript, and the child must not touch a V8 object.
    Napi::Uint8Array program = BytesField(options, kFunction, "seccomp");
    size_t size = program.ByteLength();
    if (size == 0 || size % sizeof(sock_filter) != 0 || size / sizeof(sock_filter) > BPF_MAXINSNS) {
      throw Napi::RangeError::New(info.Env(), std::string(kFunction) + ": seccomp must hold 1 to " +
                                                  std::to_string(BPF_MAXINSNS) + " instructions of " +
                                                  std::to_string(sizeof(sock_filter)) + " bytes, got " +
                                                  std::to_string(size) + " bytes");
    }
    plan.seccomp.resize(size / sizeof(sock_filter));
    memcpy(plan.seccomp.data(), program.Data(), size);
  }
  std::vector<Napi::Object> rlimits = ObjectArrayField(options, kFunction, "rlimits");
  for (size_t i = 0; i < rlimits.size(); i++) {
    const std::string label = "rlimits[" + std::to_string(i) + "]";
    Napi::Object fields = Labelled(rlimits[i], label, {"resource", "soft", "hard"});
    Rlimit rlimit;
    rlimit.resource = static_cast<int>(UintField(fields, kFunction, (label + ".resource").c_str(), RLIMIT_NLIMITS - 1));
    rlimit.limit.rlim_cur = LimitField(fields, label + ".soft");
    rlimit.limit.rlim_max = LimitField(fields, label + ".hard");
    if (rlimit.limit.rlim_cur > rlimit.limit.rlim_max) {
      throw Napi::RangeError::New(info.Env(), std::string(kFunction) + ": " + label + ".soft must not exceed its hard limit");
    }
    plan.rlimits.push_back(rlimit);
  }
  plan.user_namespace = !options.Get("userNamespace").IsUndefined() && BoolField(options, kFunction, "userNamespace");
  if (plan.user_namespace) {
    plan.uid_map = IdMap(options, "uidMappings");
    plan.gid_map = IdMap(options, "gidMappings");
  } else {
    for (const char* field : {"uidMappings", "gidMappings"}) {
      if (!options.Get(field).IsUndefined()) {
        throw Napi::RangeError::New(info.Env(), std::string(kFunction) + ": " + field + " needs userNamespace: true");
      }
    }
  }
  if (!options.Get("cgroupProcs").IsUndefined()) plan.cgroup_procs = StringArrayField(options, kFunction, "cgroupProcs");
  std::vector<Napi::Object> setup = ObjectArrayField(options, kFunction, "setup");
  for (size_t i = 0; i < setup.size(); i++) plan.operations.push_back(ReadOperation(setup[i], i));
  for (Operation& op : plan.operations) InRoot(plan.root, op);

  // The PATH the command is looked up in: the sandbox's own, as execvp would use it.
  plan.path_variable = kDefaultPath;
  for (const std::string& entry : plan.env) {
    if (entry.compare(0, 5, "PATH=") == 0) plan.path_variable = entry.substr(5);
  }
  plan.cwd_buffer.assign(plan.cwd.begin(), plan.cwd.end());
  plan.cwd_buffer.push_back('\0');
  plan.resolved_buffer.assign(PATH_MAX, '\0');
  plan.init_argv.push_back(const_cast<char*>("kiln-init"));
  plan.init_argv.push_back(plan.resolved_buffer.data());
  for (std::string& arg : plan.argv) plan.init_argv.push_back(arg.data());
  plan.init_argv.push_back(nullptr);
  for (std::string& entry : plan.env) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  return plan;
}


// ---- The parent. ----

// `fd` moved to a descriptor >= 10, close-on-exec.
int HighFd(int fd) {
  if (fd < 0) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  int saved = errno;
  close(fd);
  errno = saved;
  return high;
}

class Descriptors {
 public:
  ~Descriptors() {
    for (int fd : fds_) if (fd >= 0) close(fd);
  }
  int Add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  // Hands `fd` to the caller: it is not closed with the others.
  int Release(int fd) {
    for (int& owned : fds_) if (owned == fd) owned = -1;
    return fd;
  }

 private:
  std::vector<int> fds_;
};

Napi::Error SetupError(Napi::Env env, const Plan& plan, const kiln_report& report) {
  const std::string stage(report.stage, strnlen(report.stage, sizeof report.stage));
  const std::string syscall_name(report.syscall, strnlen(report.syscall, sizeof report.syscall));
  std::string detail;
  if (stage != "cgroup" && report.index >= 0 && static_cast<size_t>(report.index) < plan.operations.size()) {
    detail = plan.operations[report.index].target;
  } else if (stage == "pivot_root") {
    detail = plan.root;
  } else if (stage == "cwd") {
    detail = plan.cwd;
  } else if (stage == "hostname") {
    detail = plan.hostname;
  } else if (stage == "cgroup" && report.index >= 0 && static_cast<size_t>(report.index) < plan.cgroup_procs.size()) {
    detail = plan.cgroup_procs[report.index];
  } else if (stage == "exec-init") {
    detail = plan.init_path;
  } else if (stage == "lookup" || stage == "exec") {
    detail = plan.argv[0];
  }
  Napi::Error error = ErrnoError(env, report.error, syscall_name.c_str(), detail);
  std::string message = "sandbox setup failed (" + stage + "): " + error.Message();
  // runc's wording, which users of docker run know.
  if (stage == "lookup") message = "exec: \"" + plan.argv[0] + "\": executable file not found in $PATH";
  if (stage == "exec") message = "exec: \"" + plan.argv[0] + "\": " + error.Message();
  error.Set("message", Napi::String::New(env, message));
  error.Set("stage", Napi::String::New(env, stage));
  if (report.index >= 0 && stage != "cgroup") error.Set("operation", Napi::Number::New(env, report.index));
  return error;
}

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Plan plan = ReadPlan(info);
  bool want_stdin = BoolField(info[0].As<Napi::Object>(), kFunction, "stdin");

  Descriptors fds;
  auto fail = [&](const char* syscall_name, const std::string& path) {
    Napi::Error error = ErrnoError(env, errno, syscall_name, path);
    error.Set("stage", Napi::String::New(env, "spawn"));
    return error;
  };
  int init_fd = fds.Add(HighFd(open(plan.init_path.c_str(), O_PATH | O_CLOEXEC)));
  if (init_fd < 0) throw fail("open", plan.init_path);
  // Opened here, written by the child: it joins its cgroups before it can fork (cgroups(7)).
  for (const std::string& path : plan.cgroup_procs) {
    int fd = fds.Add(HighFd(open(path.c_str(), O_WRONLY | O_CLOEXEC)));
    if (fd < 0) {
      Napi::Error error = fail("open", path);
      error.Set("stage", Napi::String::New(env, "cgroup"));
      throw error;
    }
    plan.cgroup_fds.push_back(fd);
  }
  int pipes[4][2];  // report, stdin, stdout, stderr: [0] read end, [1] write end
  for (auto& pipe : pipes) {
    if (pipe2(pipe, O_CLOEXEC) != 0) throw fail("pipe2", "");
    pipe[0] = fds.Add(HighFd(pipe[0]));
    pipe[1] = fds.Add(HighFd(pipe[1]));
    if (pipe[0] < 0 || pipe[1] < 0) throw fail("fcntl", "");
  }
  // The user namespace's go-ahead: [0] the child's, [1] the parent's (user_namespaces(7): the
  // maps are written from outside, once the child exists).
  int sync[2] = {-1, -1};
  if (plan.user_namespace) {
    if (pipe2(sync, O_CLOEXEC) != 0) throw fail("pipe2", "");
    sync[0] = fds.Add(HighFd(sync[0]));
    sync[1] = fds.Add(HighFd(sync[1]));
    if (sync[0] < 0 || sync[1] < 0) throw fail("fcntl", "");
    plan.user_namespace_fd = sync[0];
  }
  int child_stdin = pipes[1][0];
  if (!want_stdin) {
    child_stdin = fds.Add(HighFd(open("/dev/null", O_RDONLY | O_CLOEXEC)));
    if (child_stdin < 0) throw fail("open", "/dev/null");
  }

  // No CLONE_NEWCGROUP: the child unshares its cgroup namespace once it is in its cgroups, so
  // they are its namespace's root (cgroup_namespaces(7)).
  uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (plan.new_network) flags |= CLONE_NEWNET;
  // Created first, it owns the namespaces made with it (clone(2)).
  if (plan.user_namespace) flags |= CLONE_NEWUSER;
  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;

  // No signal handler of Node's may run in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid;
  int clone_errno;
  if (plan.user_namespace) {
    // The parent writes the id maps while the child waits: a copy of this process, as fork.
    pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) SandboxChild(plan, init_fd, child_stdin, pipes[2][1], pipes[3][1], pipes[0][1]);
    clone_errno = errno;
  } else {
    // As posix_spawn does: the child borrows this process's memory (CLONE_VM) on a stack of its
    // own, and this thread waits until it has exec'd kiln-init or died (CLONE_VFORK). Copying
    // Node's page tables (fork) cost 1-4 ms a run, and the child's first writes as many
    // copy-on-write faults. The child already does only async-signal-safe work on data
    // prepared before the clone; its descriptor table, signal handlers, umask, root and working
    // directory are still its own (no CLONE_FILES, CLONE_SIGHAND or CLONE_FS).
    void* stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
      clone_errno = errno;
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      errno = clone_errno;
      throw fail("mmap", "");
    }
    ChildStart start{&plan, init_fd, child_stdin, pipes[2][1], pipes[3][1], pipes[0][1]};
    // clone(2)'s glibc wrapper: with CLONE_PIDFD the descriptor goes to its parent_tid.
    pid = clone(ChildMain, static_cast<char*>(stack) + kChildStack,
                static_cast<int>(flags | CLONE_VM | CLONE_VFORK) | SIGCHLD, &start, &pidfd);
    clone_errno = errno;
    munmap(stack, kChildStack);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    errno = clone_errno;
    throw fail("clone3", plan.init_path);
  }
  fds.Add(pidfd);

  // The child's ends close here, so EOF on the report pipe means the sandbox has them all.
  for (int fd : {pipes[0][1], pipes[1][0], pipes[2][1], pipes[3][1], init_fd}) close(fds.Release(fd));
  if (!want_stdin) close(fds.Release(child_stdin));
  if (plan.user_namespace) {
    close(fds.Release(sync[0]));
    std::string failed;
    int map_errno = 0;
    for (const auto& [name, text] : {std::pair<const char*, const std::string&>{"uid_map", plan.uid_map},
                                     std::pair<const char*, const std::string&>{"gid_map", plan.gid_map}}) {
      const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
      // Each map is one write(2) of the whole text, as the kernel requires.
      int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
      bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (!written) map_errno = errno;
      if (fd >= 0) close(fd);
      if (!written) {
        failed = path;
        break;
      }
    }
    if (failed.empty() && write(sync[1], "1", 1) != 1) {
      map_errno = errno;
      failed = "sync";
    }
    close(fds.Release(sync[1]));
    if (!failed.empty()) {
      // Without its byte the child exits at EOF; it is killed and reaped all the same.
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      siginfo_t status;
      while (waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &status, WEXITED) != 0 && errno == EINTR) {
      }
      Napi::Error error = ErrnoError(env, map_errno, "write", failed);
      error.Set("message", Napi::String::New(env, "sandbox setup failed (user-namespace): " + error.Message()));
      error.Set("stage", Napi::String::New(env, "user-namespace"));
      throw error;
    }
  }
  kiln_report report;
  ssize_t got;
  do got = read(pipes[0][0], &report, sizeof report);
  while (got < 0 && errno == EINTR);
  if (got != 0) {
    // Setup failed (or the report is torn): the sandbox is killed and reaped before throwing.
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t status;
    while (waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &status, WEXITED) != 0 && errno == EINTR) {
    }
    if (got != static_cast<ssize_t>(sizeof report)) {
      memset(&report, 0, sizeof report);
      strncpy(report.stage, "report", sizeof report.stage - 1);
      strncpy(report.syscall, "read", sizeof report.syscall - 1);
      report.error = got < 0 ? errno : EPROTO;
      report.index = -1;
    }
    throw SetupError(env, plan, report);
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, static_cast<double>(pid)));
  result.Set("pidfd", Napi::Number::New(env, fds.Release(pidfd)));
  result.Set("stdin", Napi::Number::New(env, want_stdin ? fds.Release(pipes[1][1]) : -1));
  result.Set("stdout", Napi::Number::New(env, fds.Release(pipes[2][0])));
  result.Set("stderr", Napi::Number::New(env, fds.Release(pipes[3][0])));
  return result;
}

}  // namespace

void AddSandboxSpawnFunction(Napi::Env env, Napi::Object sandbox) {
  sandbox.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
}

}  // namespace kiln
