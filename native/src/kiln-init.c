/*
 * kiln-init: PID 1 of a sandbox (native/src/sandbox-spawn.cc execs it). Statically linked, so
 * it runs in any root file system. Invoked as
 *
 *   kiln-init <path> <argv0> [args…]        environment: the command's; cwd: the command's
 *
 * it forks and execve(2)s <path> with argv0… and its own environment, forwards SIGTERM,
 * SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every process reparented to it,
 * and when the command exits kills whatever is left (kill(-1, SIGKILL) reaches every process
 * of the pid namespace) and exits with the command's status, or 128 + its signal.
 *
 * A failed execve is reported on KILN_REPORT_FD as a struct kiln_report; kiln reads that pipe
 * until EOF, which comes when the command's execve succeeds (the descriptor is close-on-exec
 * in the command and closed here). The parent-death signal that kills this process when kiln
 * dies was set before the exec that started it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-report.h"

extern char** environ;

static void report(const char* stage, const char* syscall_name, int error) {
  struct kiln_report record;
  memset(&record, 0, sizeof record);
  strncpy(record.stage, stage, sizeof record.stage - 1);
  strncpy(record.syscall, syscall_name, sizeof record.syscall - 1);
  record.error = error;
  record.index = -1;
  ssize_t ignored = write(KILN_REPORT_FD, &record, sizeof record);
  (void)ignored;
}

static int forwarded(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 || sig == SIGUSR2;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    static const char usage[] = "kiln-init: usage: kiln-init <path> <argv0> [args...]\n";
    ssize_t ignored = write(2, usage, sizeof usage - 1);
    (void)ignored;
    return 125;
  }
  /* Every signal is taken by sigwaitinfo below; blocked signals reach PID 1 even without a
   * handler (kernel/signal.c sig_ignored checks the blocked set first). */
  sigset_t all, original;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &original);

  /* The command waits on `gate` until this process has closed its end of the report pipe, so
   * the command never sees a descriptor of kiln's in PID 1. */
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) {
    report("exec", "pipe2", errno);
    return 125;
  }
  pid_t command = fork();
  if (command < 0) {
    report("exec", "fork", errno);
    return 125;
  }
  if (command == 0) {
    char byte;
    close(gate[1]);
    while (read(gate[0], &byte, 1) < 0 && errno == EINTR) {
    }
    close(gate[0]);
    sigprocmask(SIG_SETMASK, &original, NULL);
    fcntl(KILN_REPORT_FD, F_SETFD, FD_CLOEXEC);
    execve(argv[1], argv + 2, environ);
    report("exec", "execve", errno);
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(KILN_REPORT_FD);
  close(gate[0]);
  close(gate[1]);

  int status = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (forwarded(sig)) {
      kill(command, sig);
      continue;
    }
    if (sig != SIGCHLD) continue;
    int done = 0;
    for (;;) {
      int reaped_status;
      pid_t reaped = waitpid(-1, &reaped_status, WNOHANG);
      if (reaped <= 0) break;
      if (reaped == command) {
        status = reaped_status;
        done = 1;
      }
    }
    if (done) break;
  }
  /* What the command left behind dies with it, as when a container's init exits. */
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
