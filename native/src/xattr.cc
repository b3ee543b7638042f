// Extended attributes of a path, never following a symlink at the path itself (the l* calls
// of xattr(7); lgetxattr(2), lsetxattr(2), llistxattr(2), lremovexattr(2)). Names are UTF-8
// strings with their namespace (`user.`, `trusted.`, `security.`); values are bytes.
#include <sys/types.h>
#include <sys/xattr.h>

#include <cerrno>
#include <string>
#include <vector>

#include "arguments.h"
#include "errno-error.h"
#include "fs.h"

namespace kiln {
namespace {

// Calls `read(buffer, size)` (an l*xattr call that fills a buffer) until the buffer is large
// enough: size 0 asks for the length, and ERANGE means the value grew since it was asked.
template <typename Read>
std::vector<char> ReadGrowing(Read read, const char* syscall, Napi::Env env, const std::string& path,
                              const std::string* attribute) {
  auto fail = [&](int errnum) {
    return attribute == nullptr ? ErrnoError(env, errnum, syscall, path)
                                : ErrnoError(env, errnum, syscall, path, *attribute);
  };
  std::vector<char> buffer;
  for (;;) {
    ssize_t size = read(nullptr, 0);
    if (size < 0) throw fail(errno);
    if (size == 0) return buffer;
    buffer.resize(static_cast<size_t>(size));
    ssize_t got = read(buffer.data(), buffer.size());
    if (got >= 0) {
      buffer.resize(static_cast<size_t>(got));
      return buffer;
    }
    if (errno != ERANGE) throw fail(errno);
  }
}

Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "lgetxattr");
  std::string path = StringField(options, "lgetxattr", "path", true);
  std::string name = StringField(options, "lgetxattr", "name", false);
  std::vector<char> value = ReadGrowing(
      [&](char* buffer, size_t size) { return lgetxattr(path.c_str(), name.c_str(), buffer, size); }, "lgetxattr",
      env, path, &name);
  return Napi::Buffer<char>::Copy(env, value.data(), value.size());
}

Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "lsetxattr");
  std::string path = StringField(options, "lsetxattr", "path", true);
  std::string name = StringField(options, "lsetxattr", "name", false);
  Napi::Uint8Array value = BytesField(options, "lsetxattr", "value");
  // Flags 0: create the attribute or replace its value.
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.ByteLength(), 0) != 0) {
    throw ErrnoError(env, errno, "lsetxattr", path, name);
  }
  return env.Undefined();
}

Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "llistxattr");
  std::string path = StringField(options, "llistxattr", "path", true);
  std::vector<char> list = ReadGrowing(
      [&](char* buffer, size_t size) { return llistxattr(path.c_str(), buffer, size); }, "llistxattr", env, path,
      nullptr);
  // The list is the names one after another, each ending in NUL.
  Napi::Array names = Napi::Array::New(env);
  uint32_t index = 0;
  for (size_t start = 0; start < list.size();) {
    size_t end = start;
    while (end < list.size() && list[end] != '\0') end++;
    if (end > start) names.Set(index++, Napi::String::New(env, list.data() + start, end - start));
    start = end + 1;
  }
  return names;
}

Napi::Value Lremovexattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "lremovexattr");
  std::string path = StringField(options, "lremovexattr", "path", true);
  std::string name = StringField(options, "lremovexattr", "name", false);
  if (lremovexattr(path.c_str(), name.c_str()) != 0) throw ErrnoError(env, errno, "lremovexattr", path, name);
  return env.Undefined();
}

}  // namespace

void AddXattrFunctions(Napi::Env env, Napi::Object fs) {
  fs.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
  fs.Set("lsetxattr", Napi::Function::New(env, Lsetxattr, "lsetxattr"));
  fs.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  fs.Set("lremovexattr", Napi::Function::New(env, Lremovexattr, "lremovexattr"));
}

}  // namespace kiln
