// The compression surface of the addon: `require('kiln_native.node').compress`, typed in
// src/native/native.d.ts and called only by src/native/gzip-members.ts. Compressing a layer is
// a hot path Node cannot serve as fast: its zlib deflates at half libdeflate's speed
// (bench/gzip.ts).
#pragma once

#include <napi.h>

namespace kiln {

// gzipMembers (gzip-members.cc): a buffer as gzip members, compressed on libuv's thread pool.
void AddGzipMembersFunction(Napi::Env env, Napi::Object compress);

}  // namespace kiln
