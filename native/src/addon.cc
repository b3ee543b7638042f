// kiln_native: what only native code can do for kiln, one object per surface. `fs` holds the
// file-system calls Node lacks (xattrs, mknod, mount) or makes slow (a directory read with its lstats), used by src/native; `sandbox` runs commands
// in namespaces (sandbox-spawn.cc, sandbox-exit.cc, with kiln-init.c), used by src/sandbox;
// `compress` deflates layer pieces off the JavaScript thread (gzip-members.cc), used by src/image.
// Policy stays in TypeScript; src/native/native.d.ts types it all.
#include <napi.h>

#include "compress.h"
#include "fs.h"
#include "sandbox.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object fs = Napi::Object::New(env);
  kiln::AddXattrFunctions(env, fs);
  kiln::AddMknodFunction(env, fs);
  kiln::AddMountFunctions(env, fs);
  kiln::AddReadDirectoryFunction(env, fs);
  exports.Set("fs", fs);
  Napi::Object sandbox = Napi::Object::New(env);
  kiln::AddSandboxSpawnFunction(env, sandbox);
  kiln::AddSandboxExitFunctions(env, sandbox);
  exports.Set("sandbox", sandbox);
  Napi::Object compress = Napi::Object::New(env);
  kiln::AddGzipMembersFunction(env, compress);
  exports.Set("compress", compress);
  return exports;
}

}  // namespace

NODE_API_MODULE(kiln_native, Init)
