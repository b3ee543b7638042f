// The sandbox surface of the addon: `require('kiln_native.node').sandbox`, typed in
// src/native/native.d.ts and called only by src/sandbox. The mechanism only: which mounts,
// which files, which user are decided in TypeScript and arrive as one options object.
#pragma once

#include <napi.h>

namespace kiln {

// spawn (sandbox-spawn.cc): clones the sandbox, runs its setup, execs kiln-init.
void AddSandboxSpawnFunction(Napi::Env env, Napi::Object sandbox);

// watchExit and signal (sandbox-exit.cc): the exit of a sandbox through its pidfd.
void AddSandboxExitFunctions(Napi::Env env, Napi::Object sandbox);

}  // namespace kiln
