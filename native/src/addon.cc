// kiln_native: what only native code can do for kiln, one object per surface. `fs` holds the
// file-system calls Node lacks (xattrs, mknod), used by src/native; the sandbox surface
// arrives with its issue. Policy stays in TypeScript; src/native/native.d.ts types it all.
#include <napi.h>

#include "fs.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object fs = Napi::Object::New(env);
  kiln::AddXattrFunctions(env, fs);
  kiln::AddMknodFunction(env, fs);
  exports.Set("fs", fs);
  return exports;
}

}  // namespace

NODE_API_MODULE(kiln_native, Init)
