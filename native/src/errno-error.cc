// See errno-error.h.
#include "errno-error.h"

#include <uv.h>

namespace kiln {
namespace {

Napi::Error Make(Napi::Env env, int errnum, const char* syscall, const std::string& path,
                 const std::string* attribute) {
  // libuv's codes are the negated errno values on Unix (uv/errno.h UV__ERR).
  const int code = -errnum;
  const char* name = uv_err_name(code);
  std::string message = std::string(name) + ": " + uv_strerror(code) + ", " + syscall + " '" + path + "'";
  if (attribute != nullptr) message += " '" + *attribute + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, code));
  error.Set("code", Napi::String::New(env, name));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  if (attribute != nullptr) error.Set("attribute", Napi::String::New(env, *attribute));
  return error;
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int errnum, const char* syscall, const std::string& path) {
  return Make(env, errnum, syscall, path, nullptr);
}

Napi::Error ErrnoError(Napi::Env env, int errnum, const char* syscall, const std::string& path,
                       const std::string& attribute) {
  return Make(env, errnum, syscall, path, &attribute);
}

}  // namespace kiln
