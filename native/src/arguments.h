// Reading the one options object each function of the addon takes. Every reader names the
// function and the field in the error it throws (TypeError for a wrong type, RangeError for a
// number out of range), so the caller sees which argument to fix. Nothing here touches the
// file system: all conversion happens before the syscall.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// The first argument, which must be an object: `function: options must be an object, got …`.
Napi::Object OptionsArgument(const Napi::CallbackInfo& info, const char* function);

// A string field without NUL bytes, as the C string a syscall receives; `allow_empty` false
// refuses "" too (an attribute name).
std::string StringField(const Napi::Object& options, const char* function, const char* field, bool allow_empty);

// An integer field from 0 to `max`.
uint32_t UintField(const Napi::Object& options, const char* function, const char* field, uint32_t max);

// A boolean field.
bool BoolField(const Napi::Object& options, const char* function, const char* field);

// An array field whose every element is a string without NUL bytes.
std::vector<std::string> StringArrayField(const Napi::Object& options, const char* function, const char* field);

// An array field whose every element is an integer from 0 to `max`.
std::vector<uint32_t> UintArrayField(const Napi::Object& options, const char* function, const char* field,
                                     uint32_t max);

// An array field whose every element is an object (not an array); `field[i]` names each in errors.
std::vector<Napi::Object> ObjectArrayField(const Napi::Object& options, const char* function, const char* field);

// A Uint8Array field (a Buffer is one); valid while the calling scope holds it.
Napi::Uint8Array BytesField(const Napi::Object& options, const char* function, const char* field);

}  // namespace kiln
