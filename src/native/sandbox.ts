import { kilnInitPath, loadNative } from './load-native.ts';
import type { NativeErrnoError, NativeSpawnOptions, NativeSpawnResult } from './native.d.ts';

/*
 * The sandbox surface of the addon, for src/sandbox only (its LinuxExecutor decides every
 * policy: mounts, files, user, network). Thin: the options are those of the native call,
 * documented in native.d.ts.
 */

/**
 * Starts a sandbox and returns once its command was exec'd (native.d.ts NativeSandbox.spawn).
 * Synchronous: the setup (mounts, pivot_root) runs in the child while this thread reads its
 * report pipe, which takes milliseconds on local file systems.
 *
 * @throws a NativeSandboxError (`stage`, `syscall`, `errno`, `code`, `path`) when the setup
 * or the exec failed, after reaping the sandbox; TypeError / RangeError naming a bad option.
 */
export function spawnSandbox(options: Omit<NativeSpawnOptions, 'init'>): NativeSpawnResult {
  return loadNative().sandbox.spawn({ ...options, init: kilnInitPath() });
}

/**
 * Calls `onExit` once the sandbox's init has exited and was reaped; takes ownership of
 * `pidfd` and closes it then. Waits on the event loop (no thread), keeping it alive.
 */
export function watchSandboxExit(
  pidfd: number,
  onExit: (error: NativeErrnoError | null, code: number | null, signal: number | null) => void,
): void {
  loadNative().sandbox.watchExit({ pidfd, onExit });
}

/**
 * Sends `signal` (a number) to the sandbox's init through its pidfd (pidfd_send_signal(2)).
 * @throws ESRCH once it has exited.
 */
export function signalSandbox(pidfd: number, signal: number): void {
  loadNative().sandbox.signal({ pidfd, signal });
}
