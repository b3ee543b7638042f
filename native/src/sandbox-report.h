// What a sandbox reports through its error pipe when its setup fails before the command runs:
// written once by the cloned child (sandbox-spawn.cc) or by kiln-init (kiln-init.c) when
// execve of the command fails, read by the parent. A fixed-size record, so one write(2) of
// fewer than PIPE_BUF bytes is atomic and the reader needs no framing. C, for kiln-init.
#ifndef KILN_SANDBOX_REPORT_H
#define KILN_SANDBOX_REPORT_H

struct kiln_report {
  char stage[24];    // which step failed: "mount", "pivot_root", "lookup", "exec", …
  char syscall[24];  // the call that failed, as the error's `syscall`
  int error;         // its errno
  int index;         // the setup operation it failed on, or -1
};

// kiln-init finds the write end of the pipe at this descriptor.
#define KILN_REPORT_FD 3

#endif
