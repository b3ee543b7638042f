// The error a failed syscall becomes in JavaScript, shaped like Node's own fs errors so that
// callers branch on `code` as they do for fs: the message
//   ENODATA: no data available, lgetxattr '/etc/passwd' 'user.kiln'
// and the properties `errno` (negative, as libuv and Node report it), `code`, `syscall`,
// `path`, and `attribute` for the xattr calls. Names and texts come from libuv
// (uv_err_name, uv_strerror), the tables Node's fs errors use, so both spell them alike.
#pragma once

#include <napi.h>

#include <string>

namespace kiln {

Napi::Error ErrnoError(Napi::Env env, int errnum, const char* syscall, const std::string& path);

Napi::Error ErrnoError(Napi::Env env, int errnum, const char* syscall, const std::string& path,
                       const std::string& attribute);

}  // namespace kiln
