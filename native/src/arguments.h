// Reading the one options object each function of the addon takes. Every reader names the
// function and the field in the error it throws (TypeError for a wrong type, RangeError for a
// number out of range), so the caller sees which argument to fix. Nothing here touches the
// file system: all conversion happens before the syscall.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace kiln {

// The first argument, which must be an object: `function: options must be an object, got …`.
Napi::Object OptionsArgument(const Napi::CallbackInfo& info, const char* function);

// A string field without NUL bytes, as the C string a syscall receives; `allow_empty` false
// refuses "" too (an attribute name).
std::string StringField(const Napi::Object& options, const char* function, const char* field, bool allow_empty);

// An integer field from 0 to `max`.
uint32_t UintField(const Napi::Object& options, const char* function, const char* field, uint32_t max);

// A Uint8Array field (a Buffer is one); valid while the calling scope holds it.
Napi::Uint8Array BytesField(const Napi::Object& options, const char* function, const char* field);

}  // namespace kiln
