// The file-system surface of the addon: the calls Node's fs lacks, exported as
// `require('kiln_native.node').fs` and typed in src/native/native.d.ts. Each call is one
// synchronous syscall on the JavaScript thread (they are quick on local file systems), but
// readDirectory, one per entry of a directory.
#pragma once

#include <napi.h>

namespace kiln {

// lgetxattr, lsetxattr, llistxattr, lremovexattr (xattr.cc).
void AddXattrFunctions(Napi::Env env, Napi::Object fs);

// mknod (mknod.cc).
void AddMknodFunction(Napi::Env env, Napi::Object fs);

// mount, unmount (mount.cc).
void AddMountFunctions(Napi::Env env, Napi::Object fs);

// readDirectory (read-directory.cc).
void AddReadDirectoryFunction(Napi::Env env, Napi::Object fs);

}  // namespace kiln
