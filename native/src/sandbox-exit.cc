// sandbox.watchExit and sandbox.signal: the exit of a sandbox's init through its pidfd
// (pidfd_open(2)). A pidfd becomes readable when the process exits, so a uv_poll_t on Node's
// loop waits for it without a thread of libuv's pool (which a long RUN would otherwise hold);
// the process is then reaped by waitid(P_PIDFD), never by waitpid(-1), which would steal the
// exits of Node's other children.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>

#include "arguments.h"
#include "errno-error.h"
#include "sandbox.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace kiln {
namespace {

struct Watch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference on_exit;
};

void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  Watch* watch = static_cast<Watch*>(handle->data);
  siginfo_t info;
  info.si_pid = 0;
  int result;
  do result = waitid(static_cast<idtype_t>(P_PIDFD), watch->pidfd, &info, WEXITED | WNOHANG);
  while (result != 0 && errno == EINTR);
  if (result == 0 && info.si_pid == 0) return;  // readable before the exit is reapable: wait on
  const int reap_errno = result == 0 ? 0 : errno;
  uv_poll_stop(handle);
  close(watch->pidfd);
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* closed) { delete static_cast<Watch*>(closed->data); });

  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  Napi::Value code = env.Null(), signal = env.Null(), error = env.Null();
  if (reap_errno != 0) {
    error = ErrnoError(env, reap_errno, "waitid", "").Value();
  } else if (info.si_code == CLD_EXITED) {
    code = Napi::Number::New(env, info.si_status);
  } else {
    signal = Napi::Number::New(env, info.si_status);
  }
  try {
    watch->on_exit.MakeCallback(env.Global(), {error, code, signal});
  } catch (const Napi::Error& thrown) {
    // The callback threw: report it as Node reports any uncaught exception.
    napi_fatal_exception(env, thrown.Value());
  }
}

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "watchExit");
  int pidfd = static_cast<int>(UintField(options, "watchExit", "pidfd", INT32_MAX));
  Napi::Value callback = options.Get("onExit");
  if (!callback.IsFunction()) throw Napi::TypeError::New(env, "watchExit: onExit must be a function");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "watchExit: no event loop");
  Watch* watch = new Watch{};
  watch->pidfd = pidfd;
  watch->env = env;
  watch->on_exit = Napi::Persistent(callback.As<Napi::Function>());
  watch->poll.data = watch;
  int result = uv_poll_init(loop, &watch->poll, pidfd);
  if (result != 0) {
    delete watch;
    throw ErrnoError(env, -result, "uv_poll_init", "");
  }
  result = uv_poll_start(&watch->poll, UV_READABLE, OnReadable);
  if (result != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll),
             [](uv_handle_t* closed) { delete static_cast<Watch*>(closed->data); });
    throw ErrnoError(env, -result, "uv_poll_start", "");
  }
  return env.Undefined();
}

Napi::Value Signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "signal");
  int pidfd = static_cast<int>(UintField(options, "signal", "pidfd", INT32_MAX));
  int sig = static_cast<int>(UintField(options, "signal", "signal", 64));
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0) throw ErrnoError(env, errno, "pidfd_send_signal", "");
  return env.Undefined();
}

}  // namespace

void AddSandboxExitFunctions(Napi::Env env, Napi::Object sandbox) {
  sandbox.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
  sandbox.Set("signal", Napi::Function::New(env, Signal, "signal"));
}

}  // namespace kiln
