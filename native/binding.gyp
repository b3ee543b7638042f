# kiln_native: the addon behind src/native. One target, built by `npm install` through
# scripts/build-native.mjs (node-gyp against the headers of the Node that runs it).
{
  'targets': [
    {
      'target_name': 'kiln_native',
      'sources': [
        'src/addon.cc',
        'src/arguments.cc',
        'src/errno-error.cc',
        'src/gzip-members.cc',
        'src/mknod.cc',
        'src/mount.cc',
        'src/read-directory.cc',
        'src/sandbox-child.cc',
        'src/sandbox-exit.cc',
        'src/sandbox-in-root.cc',
        'src/sandbox-spawn.cc',
        'src/xattr.cc',
      ],
      # node-addon-api is headers only. Its gyp targets (node_addon_api_except) are not used:
      # from a binding.gyp below the package root, gyp writes their makefiles into
      # native/node_modules, outside build/.
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': [
        # Node-API 8 (Node 12.22, 14.17, 16+): the ABI the addon is built against; Node 20 has 9.
        'NAPI_VERSION=8',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
        # C++ exceptions, as node-addon-api's except.gypi sets them: a failed check throws
        # Napi::TypeError or the errno error and returns to JavaScript from any depth,
        # without a pending-exception check after every call.
        'NAPI_CPP_EXCEPTIONS',
        '_FORTIFY_SOURCE=2',
      ],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17'],
      'cflags_cc': [
        '-std=c++17',
        '-Wall',
        '-Wextra',
        '-fstack-protector-strong',
      ],
      'ldflags': ['-Wl,-z,relro,-z,now'],
      # libdeflate (Debian's libdeflate-dev): the layer gzip compressor of gzip-members.cc.
      'libraries': ['-ldeflate'],
    },
    {
      # PID 1 of every sandbox (src/kiln-init.c), exec'd by the spawn of sandbox-spawn.cc.
      # Static, so it runs in any root file system whatever libc the image has (Debian's
      # libc6-dev ships libc.a).
      'target_name': 'kiln-init',
      'type': 'executable',
      'sources': ['src/kiln-init.c'],
      'cflags': ['-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-O2', '-fstack-protector-strong'],
      'ldflags': ['-static'],
    },
  ],
}
