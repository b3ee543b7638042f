// compress.gzipMembers: a buffer as gzip members (RFC 1952 §2.2), compressed on libuv's thread
// pool by libdeflate (Debian's libdeflate-dev). libdeflate compresses a whole buffer at once,
// with no streaming and no preset dictionary, about twice as fast as zlib at the same level
// with output as small; src/image/layer/parallel-gzip.ts cuts a layer into pieces and writes
// their members one after another, which is one gzip file.
//
// Bytes that look random (compressed or encrypted files) cost deflate the most time for
// nothing: it searches every position for a match, then stores the block as it is because
// nothing was gained (libdeflate at level 1: 130 MB/s on random bytes, 640 MB/s on source
// text). So the input is judged in segments of 16 KiB, and a run of segments that look random
// is written as stored blocks (RFC 1951 §3.2.4) without being searched; the rest is deflated.
#include <libdeflate.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "arguments.h"
#include "compress.h"

namespace kiln {
namespace {

constexpr uint32_t kMaxLevel = 9;
constexpr size_t kHeaderBytes = 10;
constexpr size_t kTrailerBytes = 8;
// The unit of the random-or-not judgment: short enough to follow a file's random part inside a
// 1 MiB piece, long enough for its byte counts to mean something.
constexpr size_t kSegmentBytes = 16 * 1024;
// A shorter last segment is always deflated: too few bytes to judge, and cheap anyway.
constexpr size_t kMinJudgedBytes = 4 * 1024;
// The most one stored block holds: LEN is 16 bits (RFC 1951 §3.2.4).
constexpr size_t kMaxStoredBlockBytes = 65535;
// A stored block's header: the 3 header bits padded to a byte, LEN, NLEN.
constexpr size_t kStoredHeaderBytes = 5;

// Whether `size` bytes look random enough to store: their collision entropy (Rényi order 2,
// -log2 of the chance that two bytes drawn from them are equal) is at least 8 - log2(33/32),
// 7.956 bits a byte. Shannon entropy, which bounds any Huffman code, is never below it, so
// coding these bytes as deflate's literals would save at most 0.6%, before paying for the code
// tables; only repeats within the window could save more, and random-looking data has almost
// none. Integer arithmetic only: the judgment, and so the output, is the same on every
// machine. The chance is estimated without bias, (Σc² − n) / (n(n − 1)), and held to at most
// (33/32) / 256 = 1/248: random bytes give 1/256, segments of .gz files 1/256 to 1/244 (most
// are stored), source text about 1/20.
bool LooksRandom(const uint8_t* data, size_t size) {
  // Four tables, so that runs of one byte value do not wait on one counter.
  uint32_t counts[4][256] = {};
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    counts[0][data[i]]++;
    counts[1][data[i + 1]]++;
    counts[2][data[i + 2]]++;
    counts[3][data[i + 3]]++;
  }
  for (; i < size; i++) counts[0][data[i]]++;
  uint64_t squares = 0;
  for (size_t value = 0; value < 256; value++) {
    const uint64_t count = uint64_t{counts[0][value]} + counts[1][value] + counts[2][value] + counts[3][value];
    squares += count * count;
  }
  const uint64_t n = size;
  // (squares - n) / (n (n - 1)) <= (33/32) / 256
  return 32 * 256 * (squares - n) <= 33 * n * (n - 1);
}

// A range of the input written one way: stored, or deflated.
struct Run {
  size_t start;
  size_t end;
  bool stored;
};

// The input cut into runs of segments judged alike, in order, covering it all; an empty input
// is one empty deflated run (a gzip file needs a member).
std::vector<Run> Runs(const uint8_t* data, size_t size) {
  std::vector<Run> runs;
  for (size_t start = 0; start < size; start += kSegmentBytes) {
    const size_t end = size - start < kSegmentBytes ? size : start + kSegmentBytes;
    const bool stored = end - start >= kMinJudgedBytes && LooksRandom(data + start, end - start);
    if (!runs.empty() && runs.back().stored == stored) {
      runs.back().end = end;
    } else {
      runs.push_back({start, end, stored});
    }
  }
  if (runs.empty()) runs.push_back({0, 0, false});
  return runs;
}

// A compressor per level for each thread of the pool, made on first use and kept: one must not
// be used by two threads at once (libdeflate.h), and making one per piece would map and fault
// in its hash tables again every time.
class ThreadCompressors {
 public:
  ThreadCompressors() = default;
  ThreadCompressors(const ThreadCompressors&) = delete;
  ThreadCompressors& operator=(const ThreadCompressors&) = delete;
  ~ThreadCompressors() {
    for (libdeflate_compressor* compressor : compressors_) {
      if (compressor != nullptr) libdeflate_free_compressor(compressor);
    }
  }

  // nullptr when out of memory.
  libdeflate_compressor* ForLevel(uint32_t level) {
    libdeflate_compressor*& compressor = compressors_[level];
    if (compressor == nullptr) compressor = libdeflate_alloc_compressor(static_cast<int>(level));
    return compressor;
  }

 private:
  libdeflate_compressor* compressors_[kMaxLevel + 1] = {};
};

thread_local ThreadCompressors thread_compressors;

uint8_t* PutLittleEndian16(uint8_t* at, uint32_t value) {
  at[0] = static_cast<uint8_t>(value);
  at[1] = static_cast<uint8_t>(value >> 8);
  return at + 2;
}

uint8_t* PutLittleEndian32(uint8_t* at, uint32_t value) {
  at = PutLittleEndian16(at, value & 0xffff);
  return PutLittleEndian16(at, value >> 16);
}

// Compresses on a thread of the pool; settles the promise on the JavaScript thread.
class GzipMembersWorker : public Napi::AsyncWorker {
 public:
  GzipMembersWorker(Napi::Env env, const Napi::Uint8Array& input, uint32_t level)
      : Napi::AsyncWorker(env, "kiln.gzipMembers"),
        deferred_(Napi::Promise::Deferred::New(env)),
        // Held so the input outlives the work; the caller must not write to it meanwhile.
        input_(Napi::Persistent(static_cast<Napi::Object>(input))),
        data_(input.Data()),
        size_(input.ByteLength()),
        level_(level) {}

  ~GzipMembersWorker() override { std::free(output_); }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    libdeflate_compressor* compressor = thread_compressors.ForLevel(level_);
    if (compressor == nullptr) return SetError("gzipMembers: out of memory for a compressor");
    const std::vector<Run> runs = Runs(data_, size_);
    size_t bound = 0;
    for (const Run& run : runs) {
      const size_t length = run.end - run.start;
      bound += kHeaderBytes + kTrailerBytes +
               (run.stored ? length + kStoredHeaderBytes * ((length + kMaxStoredBlockBytes - 1) / kMaxStoredBlockBytes)
                           : libdeflate_deflate_compress_bound(compressor, length));
    }
    output_ = static_cast<uint8_t*>(std::malloc(bound));
    if (output_ == nullptr) return SetError("gzipMembers: out of memory for the output");
    uint8_t* at = output_;
    const uint8_t* const end = output_ + bound;
    // Where the open member's input begins; kNone when no member is open.
    constexpr size_t kNone = SIZE_MAX;
    size_t member_start = kNone;
    for (size_t i = 0; i < runs.size(); i++) {
      const Run& run = runs[i];
      if (member_start == kNone) {
        at = PutHeader(at);
        member_start = run.start;
      }
      const bool last = i + 1 == runs.size();
      if (run.stored) {
        // Byte-aligned blocks, so whatever follows in the member starts on a byte, as a
        // deflate stream from libdeflate does. Only the input's last block is final.
        for (size_t start = run.start; start < run.end; start += kMaxStoredBlockBytes) {
          const size_t length = run.end - start < kMaxStoredBlockBytes ? run.end - start : kMaxStoredBlockBytes;
          *at++ = last && start + length == run.end ? 1 : 0;  // BFINAL, BTYPE 00, padding
          at = PutLittleEndian16(at, static_cast<uint32_t>(length));
          at = PutLittleEndian16(at, static_cast<uint32_t>(~length & 0xffff));
          std::memcpy(at, data_ + start, length);
          at += length;
        }
        if (!last) continue;
      } else {
        // libdeflate always ends its stream with a final block, so the member ends with it.
        const size_t deflated = libdeflate_deflate_compress(compressor, data_ + run.start, run.end - run.start, at,
                                                            static_cast<size_t>(end - at) - kTrailerBytes);
        if (deflated == 0) return SetError("gzipMembers: libdeflate wrote more than its own bound");
        at += deflated;
      }
      // CRC-32 of the member's input, then its length mod 2^32 (ISIZE).
      at = PutLittleEndian32(at, libdeflate_crc32(0, data_ + member_start, run.end - member_start));
      at = PutLittleEndian32(at, static_cast<uint32_t>(run.end - member_start));
      member_start = kNone;
    }
    output_size_ = static_cast<size_t>(at - output_);
    // The bound is about the input's size, the output often half of it: give the rest back.
    if (auto* shrunk = static_cast<uint8_t*>(std::realloc(output_, output_size_))) output_ = shrunk;
  }

  void OnOK() override {
    uint8_t* output = output_;
    output_ = nullptr;
    input_.Reset();
    deferred_.Resolve(
        Napi::Buffer<uint8_t>::NewOrCopy(Env(), output, output_size_, [](Napi::Env, uint8_t* data) { std::free(data); }));
  }

  void OnError(const Napi::Error& error) override {
    input_.Reset();
    deferred_.Reject(error.Value());
  }

 private:
  // RFC 1952 §2.3: ID1 ID2, CM 8 (deflate), FLG 0, MTIME 0 (no time: reproducible), XFL as
  // zlib's deflate.c sets it (2 for level 9, 4 for level 1, else 0), OS 3 (Unix): the header
  // Node's zlib writes for the same level.
  uint8_t* PutHeader(uint8_t* at) const {
    const uint8_t xfl = level_ == 9 ? 2 : level_ == 1 ? 4 : 0;
    const uint8_t header[kHeaderBytes] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3};
    std::memcpy(at, header, kHeaderBytes);
    return at + kHeaderBytes;
  }

  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference input_;
  const uint8_t* data_;
  const size_t size_;
  const uint32_t level_;
  uint8_t* output_ = nullptr;
  size_t output_size_ = 0;
};

Napi::Value GzipMembers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "gzipMembers");
  Napi::Uint8Array input = BytesField(options, "gzipMembers", "input");
  // gzip's levels are 1–9 (libdeflate's 0 would write stored blocks only, 10–12 are its own).
  Napi::Value level_value = options.Get("level");
  if (level_value.IsNumber()) {
    const double number = level_value.As<Napi::Number>().DoubleValue();
    if (number < 1 || number > kMaxLevel) {
      throw Napi::RangeError::New(env, "gzipMembers: level must be from 1 to 9, got " + level_value.ToString().Utf8Value());
    }
  }
  const uint32_t level = UintField(options, "gzipMembers", "level", kMaxLevel);
  auto* worker = new GzipMembersWorker(env, input, level);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void AddGzipMembersFunction(Napi::Env env, Napi::Object compress) {
  compress.Set("gzipMembers", Napi::Function::New(env, GzipMembers, "gzipMembers"));
}

}  // namespace kiln
