// mount(2) and umount2(2) in kiln's own mount namespace, for the file steps of a build (COPY,
// ADD, WORKDIR), which write through an overlay of a snapshot as BuildKit's file ops do. The
// sandbox mounts in its own namespace (sandbox-child.cc); these are the only mounts kiln
// makes in its own, each under its root, owned by the process (src/owner) and undone on every
// path.
#include <sys/mount.h>

#include <cerrno>
#include <string>

#include "arguments.h"
#include "errno-error.h"
#include "fs.h"

namespace kiln {
namespace {

Napi::Value Mount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "mount");
  std::string type = StringField(options, "mount", "type", false);
  std::string source = StringField(options, "mount", "source", false);
  std::string target = StringField(options, "mount", "target", false);
  std::string data = StringField(options, "mount", "data", true);
  bool read_only = BoolField(options, "mount", "readOnly");
  bool bind = BoolField(options, "mount", "bind");
  unsigned long flags = MS_NODEV | MS_NOSUID;
  if (bind) flags |= MS_BIND | MS_REC;
  // A read-only bind needs a remount after the bind (mount(2): MS_RDONLY is ignored with MS_BIND).
  if (read_only && !bind) flags |= MS_RDONLY;
  if (mount(source.c_str(), target.c_str(), type.c_str(), flags, data.empty() ? nullptr : data.c_str()) != 0) {
    throw ErrnoError(env, errno, "mount", target);
  }
  if (read_only && bind) {
    if (mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV | MS_NOSUID, nullptr) != 0) {
      int saved = errno;
      umount2(target.c_str(), MNT_DETACH);
      throw ErrnoError(env, saved, "mount", target);
    }
  }
  return env.Undefined();
}

Napi::Value Unmount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "unmount");
  std::string target = StringField(options, "unmount", "target", false);
  bool detach = BoolField(options, "unmount", "detach");
  // UMOUNT_NOFOLLOW: a symlink planted at the target is never followed to another mount.
  if (umount2(target.c_str(), UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0)) != 0) {
    throw ErrnoError(env, errno, "umount2", target);
  }
  return env.Undefined();
}

}  // namespace

void AddMountFunctions(Napi::Env env, Napi::Object fs) {
  fs.Set("mount", Napi::Function::New(env, Mount, "mount"));
  fs.Set("unmount", Napi::Function::New(env, Unmount, "unmount"));
}

}  // namespace kiln
