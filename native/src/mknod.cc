// mknod(2) for the nodes Node's fs cannot make: character and block devices, FIFOs, and the
// overlayfs whiteout (a character device 0:0, Documentation/filesystems/overlayfs.rst).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "arguments.h"
#include "errno-error.h"
#include "fs.h"

namespace kiln {
namespace {

// Linux keeps 12 bits of major and 20 of minor in what mknod(2) passes to the kernel
// (include/linux/kdev_t.h new_encode_dev); larger numbers would be silently cut.
constexpr uint32_t kMaxMajor = 0xfff;
constexpr uint32_t kMaxMinor = 0xfffff;

std::string Octal(uint32_t value) {
  char text[16];
  snprintf(text, sizeof text, "0o%o", value);
  return text;
}

Napi::Value Mknod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "mknod");
  std::string path = StringField(options, "mknod", "path", true);
  uint32_t mode = UintField(options, "mknod", "mode", 0177777);
  uint32_t major = UintField(options, "mknod", "major", kMaxMajor);
  uint32_t minor = UintField(options, "mknod", "minor", kMaxMinor);
  // Regular files and sockets have their own calls; a type of 0 would make a regular file.
  const uint32_t type = mode & S_IFMT;
  if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO) {
    throw Napi::RangeError::New(env, "mknod: mode must have the file type S_IFCHR, S_IFBLK or S_IFIFO, got " +
                                         Octal(mode));
  }
  // The permission bits are subject to the umask, as for every mknod(2).
  if (mknod(path.c_str(), static_cast<mode_t>(mode), makedev(major, minor)) != 0) {
    throw ErrnoError(env, errno, "mknod", path);
  }
  return env.Undefined();
}

}  // namespace

void AddMknodFunction(Napi::Env env, Napi::Object fs) {
  fs.Set("mknod", Napi::Function::New(env, Mknod, "mknod"));
}

}  // namespace kiln
