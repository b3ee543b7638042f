// See arguments.h.
#include "arguments.h"

#include <cmath>

namespace kiln {
namespace {

// What `typeof` would say, with null and arrays told apart: the "got …" of a TypeError.
std::string Describe(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    case napi_external: return "external";
    case napi_object: return value.IsArray() ? "array" : "object";
  }
  return "unknown";
}

[[noreturn]] void ThrowType(Napi::Env env, const char* function, const char* field, const char* expected,
                            const std::string& got) {
  throw Napi::TypeError::New(env, std::string(function) + ": " + field + " must be " + expected + ", got " + got);
}

}  // namespace

Napi::Object OptionsArgument(const Napi::CallbackInfo& info, const char* function) {
  Napi::Value options = info[0];
  if (!options.IsObject() || options.IsArray()) {
    ThrowType(info.Env(), function, "options", "an object", Describe(options));
  }
  return options.As<Napi::Object>();
}

std::string StringField(const Napi::Object& options, const char* function, const char* field, bool allow_empty) {
  Napi::Value value = options.Get(field);
  const char* expected = allow_empty ? "a string" : "a non-empty string";
  if (!value.IsString()) ThrowType(options.Env(), function, field, expected, Describe(value));
  std::string text = value.As<Napi::String>().Utf8Value();
  // The syscall would stop at the first NUL and act on another name (Node refuses these too).
  if (text.find('\0') != std::string::npos) {
    ThrowType(options.Env(), function, field, "a string without NUL bytes", "one with a NUL byte");
  }
  if (!allow_empty && text.empty()) ThrowType(options.Env(), function, field, expected, "\"\"");
  return text;
}

uint32_t UintField(const Napi::Object& options, const char* function, const char* field, uint32_t max) {
  Napi::Value value = options.Get(field);
  if (!value.IsNumber()) ThrowType(options.Env(), function, field, "an integer", Describe(value));
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    ThrowType(options.Env(), function, field, "an integer", Napi::Value(value).ToString().Utf8Value());
  }
  if (number < 0 || number > max) {
    throw Napi::RangeError::New(options.Env(), std::string(function) + ": " + field + " must be from 0 to " +
                                                   std::to_string(max) + ", got " +
                                                   Napi::Value(value).ToString().Utf8Value());
  }
  return static_cast<uint32_t>(number);
}

Napi::Uint8Array BytesField(const Napi::Object& options, const char* function, const char* field) {
  Napi::Value value = options.Get(field);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(options.Env(), function, field, "a Buffer or Uint8Array", Describe(value));
  }
  return value.As<Napi::Uint8Array>();
}

bool BoolField(const Napi::Object& options, const char* function, const char* field) {
  Napi::Value value = options.Get(field);
  if (!value.IsBoolean()) ThrowType(options.Env(), function, field, "a boolean", Describe(value));
  return value.As<Napi::Boolean>().Value();
}

namespace {

// The elements of the array `field`, each checked by `check(element, "field[i]")`.
template <typename Check>
void ForEachElement(const Napi::Object& options, const char* function, const char* field, Check check) {
  Napi::Value value = options.Get(field);
  if (!value.IsArray()) ThrowType(options.Env(), function, field, "an array", Describe(value));
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) {
    check(array.Get(i), std::string(field) + "[" + std::to_string(i) + "]");
  }
}

}  // namespace

std::vector<std::string> StringArrayField(const Napi::Object& options, const char* function, const char* field) {
  std::vector<std::string> strings;
  ForEachElement(options, function, field, [&](const Napi::Value& element, const std::string& name) {
    if (!element.IsString()) ThrowType(options.Env(), function, name.c_str(), "a string", Describe(element));
    std::string text = element.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) {
      ThrowType(options.Env(), function, name.c_str(), "a string without NUL bytes", "one with a NUL byte");
    }
    strings.push_back(std::move(text));
  });
  return strings;
}

std::vector<uint32_t> UintArrayField(const Napi::Object& options, const char* function, const char* field,
                                     uint32_t max) {
  std::vector<uint32_t> numbers;
  ForEachElement(options, function, field, [&](const Napi::Value& element, const std::string& name) {
    // Read through a one-field object so the checks and messages are UintField's own.
    Napi::Object holder = Napi::Object::New(options.Env());
    holder.Set(name, element);
    numbers.push_back(UintField(holder, function, name.c_str(), max));
  });
  return numbers;
}

std::vector<Napi::Object> ObjectArrayField(const Napi::Object& options, const char* function, const char* field) {
  std::vector<Napi::Object> objects;
  ForEachElement(options, function, field, [&](const Napi::Value& element, const std::string& name) {
    if (!element.IsObject() || element.IsArray()) {
      ThrowType(options.Env(), function, name.c_str(), "an object", Describe(element));
    }
    objects.push_back(element.As<Napi::Object>());
  });
  return objects;
}

}  // namespace kiln
