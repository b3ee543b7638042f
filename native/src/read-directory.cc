// readDirectory: the entries of a directory with the lstat(2) of each, in one call, where Node
// needs a readdir and then an lstat per entry, each by its whole path and each building a
// BigIntStats with its four Dates. Here the entries are read once, sorted bytewise (Go's
// order, which the context walk follows), and stat'ed relative to the open directory (no path
// walk), the fields packed into one BigInt64Array. A context walk of 20,000 files spends a
// third of the time doing so (bench/contenthash.ts).
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "arguments.h"
#include "errno-error.h"
#include "fs.h"

namespace kiln {
namespace {

// The fields of one entry, in this order (src/native/native.d.ts): what libuv's statx path
// fills for Node's lstat, so the values are those of fs.lstatSync(path, {bigint: true}).
enum Field : size_t {
  kDev,
  kIno,
  kMode,
  kNlink,
  kUid,
  kGid,
  kRdev,
  kSize,
  kBlksize,
  kBlocks,
  kAtimeNs,
  kMtimeNs,
  kCtimeNs,
  kBirthtimeNs,
  kFieldCount,
};

int64_t Nanoseconds(const struct statx_timestamp& time) {
  return static_cast<int64_t>(time.tv_sec) * 1000000000 + time.tv_nsec;
}

// Closes the directory on every path out, errors included.
class OpenDirectory {
 public:
  explicit OpenDirectory(DIR* dir) : dir_(dir) {}
  ~OpenDirectory() { closedir(dir_); }
  OpenDirectory(const OpenDirectory&) = delete;
  OpenDirectory& operator=(const OpenDirectory&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

// One directory read: its entries and their packed stats, or the failure that stopped it
// (errnum 0 when none), kept as data so that a thread other than JavaScript's can make it.
struct Listing {
  std::vector<std::string> names;
  std::vector<int64_t> rows;
  int errnum = 0;
  const char* syscall = nullptr;
  std::string error_path;
};

// Reads `path` into `out`; touches no JavaScript value, so any thread may call it.
void ReadListing(const std::string& path, Listing& out) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  // Node names a failed readdir's syscall `scandir`: errors read alike from both.
  if (fd < 0) {
    out.errnum = errno;
    out.syscall = "scandir";
    out.error_path = path;
    return;
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    out.errnum = errno;
    out.syscall = "scandir";
    out.error_path = path;
    close(fd);
    return;
  }
  OpenDirectory open_directory(dir);

  std::vector<std::string>& names = out.names;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) {
        out.errnum = errno;
        out.syscall = "scandir";
        out.error_path = path;
        return;
      }
      break;
    }
    const char* name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    names.emplace_back(name);
  }
  // std::string's order is char_traits<char>::compare, which compares bytes as unsigned char.
  std::sort(names.begin(), names.end());

  // Stat every entry first: one that vanished since the read (ENOENT) is left out, as if the
  // read had come a moment later.
  std::vector<int64_t>& rows = out.rows;
  rows.resize(names.size() * kFieldCount);
  size_t kept = 0;
  for (size_t i = 0; i < names.size(); i++) {
    struct statx st;
    // As libuv's lstat: the basic fields and the birth time, no symlink followed.
    if (statx(fd, names[i].c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &st) != 0) {
      if (errno == ENOENT) continue;
      out.errnum = errno;
      out.syscall = "lstat";
      out.error_path = path + "/" + names[i];
      return;
    }
    int64_t* row = rows.data() + kept * kFieldCount;
    row[kDev] = static_cast<int64_t>(makedev(st.stx_dev_major, st.stx_dev_minor));
    row[kIno] = static_cast<int64_t>(st.stx_ino);
    row[kMode] = st.stx_mode;
    row[kNlink] = st.stx_nlink;
    row[kUid] = st.stx_uid;
    row[kGid] = st.stx_gid;
    row[kRdev] = static_cast<int64_t>(makedev(st.stx_rdev_major, st.stx_rdev_minor));
    row[kSize] = static_cast<int64_t>(st.stx_size);
    row[kBlksize] = st.stx_blksize;
    row[kBlocks] = static_cast<int64_t>(st.stx_blocks);
    row[kAtimeNs] = Nanoseconds(st.stx_atime);
    row[kMtimeNs] = Nanoseconds(st.stx_mtime);
    row[kCtimeNs] = Nanoseconds(st.stx_ctime);
    row[kBirthtimeNs] = (st.stx_mask & STATX_BTIME) != 0 ? Nanoseconds(st.stx_btime) : 0;
    if (kept != i) names[kept] = std::move(names[i]);
    kept++;
  }
  names.resize(kept);
  rows.resize(kept * kFieldCount);
}

// The listing as JavaScript sees it ({names, stats}), or its failure thrown.
Napi::Value ListingValue(Napi::Env env, const Listing& listing) {
  if (listing.errnum != 0) throw ErrnoError(env, listing.errnum, listing.syscall, listing.error_path);
  size_t count = listing.names.size();
  Napi::Array js_names = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) js_names.Set(static_cast<uint32_t>(i), Napi::String::New(env, listing.names[i]));
  Napi::TypedArrayOf<int64_t> stats = Napi::TypedArrayOf<int64_t>::New(env, listing.rows.size(), napi_bigint64_array);
  std::copy(listing.rows.begin(), listing.rows.end(), stats.Data());
  Napi::Object result = Napi::Object::New(env);
  result.Set("names", js_names);
  result.Set("stats", stats);
  return result;
}

Napi::Value ReadDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = OptionsArgument(info, "readDirectory");
  std::string path = StringField(options, "readDirectory", "path", false);
  Listing listing;
  ReadListing(path, listing);
  return ListingValue(env, listing);
}

// Whether `path` is `dir` or below it.
bool IsWithin(const std::string& path, const std::string& dir) {
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

// A tree walk's directory reads, done ahead on a thread of its own while JavaScript handles
// the entries already read: a walk of 20,000 files spends as long in statx(2) as in its own
// code, and a second core can do the one while the first does the other.
//
// JavaScript takes each directory it walks (take); the thread then reads that directory's
// subdirectories, deepest first in walk order (bytewise, depth first, as the walk goes), so
// the next directory asked for is usually read already. A directory the walk will not enter
// is skipped (skip), with everything queued below it. What was read waits for at most
// kMaxReady directories (or kMaxReadyEntries entries) before the thread pauses; a take that
// finds nothing read or queued for its path reads it on the JavaScript thread instead. The
// thread stops on close(), or when the object is collected.
class DirectoryPrefetcher : public Napi::ObjectWrap<DirectoryPrefetcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DirectoryPrefetcher",
                       {
                           InstanceMethod<&DirectoryPrefetcher::Take>("take"),
                           InstanceMethod<&DirectoryPrefetcher::Skip>("skip"),
                           InstanceMethod<&DirectoryPrefetcher::Close>("close"),
                           InstanceAccessor<&DirectoryPrefetcher::ReadAhead>("readAhead"),
                       });
  }

  explicit DirectoryPrefetcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DirectoryPrefetcher>(info) {
    thread_ = std::thread([this] { Run(); });
  }

  ~DirectoryPrefetcher() override { Stop(); }

  DirectoryPrefetcher(const DirectoryPrefetcher&) = delete;
  DirectoryPrefetcher& operator=(const DirectoryPrefetcher&) = delete;

 private:
  static constexpr size_t kMaxReady = 64;
  static constexpr size_t kMaxReadyEntries = 65536;

  // take({path}): the listing of `path`, as readDirectory gives it.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = OptionsArgument(info, "take");
    std::string path = StringField(options, "take", "path", false);
    Listing listing;
    bool found = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        auto ready = ready_.find(path);
        if (ready != ready_.end()) {
          listing = std::move(ready->second);
          ready_entries_ -= listing.names.size();
          ready_.erase(ready);
          found = true;
          break;
        }
        if (reading_ != path) break;
        changed_.wait(lock);
      }
      if (!found) {
        auto queued = std::find(queue_.begin(), queue_.end(), path);
        if (queued != queue_.end()) queue_.erase(queued);
      }
      // The walk has passed whatever was read before this (a directory it did not enter and
      // was not told of): it will not be asked for.
      DropReadBefore(path);
    }
    if (!found) ReadListing(path, listing);
    if (listing.errnum == 0) Enqueue(path, listing);
    return ListingValue(env, listing);
  }

  // skip({path}): the walk will not enter `path`: nothing below it is read.
  void Skip(const Napi::CallbackInfo& info) {
    Napi::Object options = OptionsArgument(info, "skip");
    std::string path = StringField(options, "skip", "path", false);
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const std::string& queued) { return IsWithin(queued, path); }),
                 queue_.end());
    for (auto it = ready_.begin(); it != ready_.end();) {
      if (IsWithin(it->first, path)) {
        ready_entries_ -= it->second.names.size();
        it = ready_.erase(it);
      } else {
        ++it;
      }
    }
    if (!reading_.empty() && IsWithin(reading_, path)) drop_reading_ = true;
    changed_.notify_all();
  }

  void Close(const Napi::CallbackInfo&) { Stop(); }

  // How many directories the thread has read (for tests: what skip saves).
  Napi::Value ReadAhead(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Napi::Number::New(info.Env(), static_cast<double>(read_ahead_));
  }

  // Queues the subdirectories of `path` (just taken) to be read next, in walk order.
  void Enqueue(const std::string& path, const Listing& listing) {
    std::vector<std::string> subdirectories;
    for (size_t i = 0; i < listing.names.size(); i++) {
      if (S_ISDIR(static_cast<mode_t>(listing.rows[i * kFieldCount + kMode]))) {
        subdirectories.push_back(path + "/" + listing.names[i]);
      }
    }
    if (subdirectories.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    queue_.insert(queue_.begin(), std::make_move_iterator(subdirectories.begin()), std::make_move_iterator(subdirectories.end()));
    changed_.notify_all();
  }

  // Drops what was read for directories the walk passed without taking. Caller holds mutex_.
  void DropReadBefore(const std::string& path) {
    for (auto it = ready_.begin(); it != ready_.end();) {
      if (WalkOrderBefore(it->first, path)) {
        ready_entries_ -= it->second.names.size();
        it = ready_.erase(it);
      } else {
        ++it;
      }
    }
    changed_.notify_all();
  }

  // Depth-first, bytewise walk order: a directory's whole subtree before its next sibling, so
  // `/` counts as less than any other byte.
  static bool WalkOrderBefore(const std::string& a, const std::string& b) {
    size_t limit = std::min(a.size(), b.size());
    for (size_t i = 0; i < limit; i++) {
      unsigned char x = static_cast<unsigned char>(a[i]);
      unsigned char y = static_cast<unsigned char>(b[i]);
      if (x == y) continue;
      if (x == '/') return true;
      if (y == '/') return false;
      return x < y;
    }
    return a.size() < b.size();
  }

  void Run() {
    // Signals are for the JavaScript thread (libuv's handlers): none is delivered here.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] {
        return stopping_ || (!queue_.empty() && ready_.size() < kMaxReady && ready_entries_ < kMaxReadyEntries);
      });
      if (stopping_) return;
      std::string path = std::move(queue_.front());
      queue_.erase(queue_.begin());
      reading_ = path;
      drop_reading_ = false;
      lock.unlock();
      Listing listing;
      ReadListing(path, listing);
      lock.lock();
      reading_.clear();
      read_ahead_++;
      if (!drop_reading_ && !stopping_) {
        ready_entries_ += listing.names.size();
        ready_.emplace(std::move(path), std::move(listing));
      }
      changed_.notify_all();
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      queue_.clear();
      ready_.clear();
      ready_entries_ = 0;
      changed_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  // Directories to read, the next first.
  std::deque<std::string> queue_;
  // Directories read and not taken yet, by path.
  std::unordered_map<std::string, Listing> ready_;
  size_t ready_entries_ = 0;
  // The directory the thread is reading ('' when none), and whether its listing is unwanted.
  std::string reading_;
  bool drop_reading_ = false;
  bool stopping_ = false;
  uint64_t read_ahead_ = 0;
  std::thread thread_;
};

}  // namespace

void AddReadDirectoryFunction(Napi::Env env, Napi::Object fs) {
  fs.Set("readDirectory", Napi::Function::New(env, ReadDirectory, "readDirectory"));
  fs.Set("DirectoryPrefetcher", DirectoryPrefetcher::Define(env));
}

}  // namespace kiln
