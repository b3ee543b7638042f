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
#include <system_error>
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
  // The names joined by '/' (which no name holds), as JavaScript gets them.
  std::string joined_names;
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
  size_t length = kept == 0 ? 0 : kept - 1;
  for (const std::string& name : names) length += name.size();
  out.joined_names.reserve(length);
  for (size_t i = 0; i < kept; i++) {
    if (i > 0) out.joined_names.push_back('/');
    out.joined_names.append(names[i]);
  }
}

// The listing as JavaScript sees it ({names, stats}: the names as one buffer, joined by '/'),
// or its failure thrown. One buffer, not a string per name: making 20,000 strings here took
// longer than reading the directories they came from.
Napi::Value ListingValue(Napi::Env env, const Listing& listing) {
  if (listing.errnum != 0) throw ErrnoError(env, listing.errnum, listing.syscall, listing.error_path);
  Napi::Buffer<char> js_names = Napi::Buffer<char>::Copy(env, listing.joined_names.data(), listing.joined_names.size());
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

// A tree walk's directory reads, done ahead on threads of its own while JavaScript handles
// the entries already read: a walk of 20,000 files spends as long in statx(2) as in its own
// code, and a second core can do the one while the first does the other.
//
// The walk says which directories it will enter next (prefetch, in the order it will take
// them: the subdirectories of the one it just took, which come before anything queued
// earlier), so nothing it leaves out (an ignored node_modules) is ever opened. It then takes
// each (take): read already, being read (it waits), or read then on its own thread. What was
// read waits for at most kMaxReady directories (or kMaxReadyEntries entries) before the
// threads pause. Should no thread start, or the threads fail later, every take reads on the
// calling thread, as readDirectory does. The threads stop on close(), or when the object is
// collected.
class DirectoryPrefetcher : public Napi::ObjectWrap<DirectoryPrefetcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DirectoryPrefetcher",
                       {
                           InstanceMethod<&DirectoryPrefetcher::Prefetch>("prefetch"),
                           InstanceMethod<&DirectoryPrefetcher::Take>("take"),
                           InstanceMethod<&DirectoryPrefetcher::Close>("close"),
                           InstanceAccessor<&DirectoryPrefetcher::ReadAhead>("readAhead"),
                       });
  }

  explicit DirectoryPrefetcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DirectoryPrefetcher>(info) {
    // Signals are for the JavaScript thread (libuv's handlers): the thread starts with all
    // of them blocked, as it inherits this thread's mask.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    for (size_t i = 0; i < kReaders; i++) {
      try {
        threads_.emplace_back([this] { Run(); });
      } catch (const std::system_error&) {
        // No thread to be had (a pids limit): the threads started read; with none, every take reads on the calling thread.
        if (threads_.empty()) stopping_ = true;
        break;
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  ~DirectoryPrefetcher() override { Stop(); }

  DirectoryPrefetcher(const DirectoryPrefetcher&) = delete;
  DirectoryPrefetcher& operator=(const DirectoryPrefetcher&) = delete;

 private:
  // One: a second halved the reads, but a walk that waits for them (the checksum's listing
  // memo leaves it little to do) gained ~7 ms of 240, and the second thread's malloc arena
  // added 4-8 MB to a cold build's peak memory.
  static constexpr size_t kReaders = 1;
  static constexpr size_t kMaxReady = 64;
  static constexpr size_t kMaxReadyEntries = 65536;

  // prefetch({paths}): the directories the walk will take next, in that order.
  void Prefetch(const Napi::CallbackInfo& info) {
    Napi::Object options = OptionsArgument(info, "prefetch");
    std::vector<std::string> paths = StringArrayField(options, "prefetch", "paths");
    if (paths.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    queue_.insert(queue_.begin(), std::make_move_iterator(paths.begin()), std::make_move_iterator(paths.end()));
    changed_.notify_all();
  }

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
          ready_entries_ -= ready->second.names.size();
          // A read that failed is made again now: the directory may be back, or readable.
          if (ready->second.errnum == 0) {
            listing = std::move(ready->second);
            found = true;
          }
          ready_.erase(ready);
          break;
        }
        if (std::find(reading_.begin(), reading_.end(), path) == reading_.end()) break;
        changed_.wait(lock);
      }
      if (!found) {
        auto queued = std::find(queue_.begin(), queue_.end(), path);
        if (queued != queue_.end()) queue_.erase(queued);
      }
      // The walk has passed whatever was read before this: it will not be asked for.
      DropReadBefore(path);
    }
    if (!found) ReadListing(path, listing);
    return ListingValue(env, listing);
  }

  void Close(const Napi::CallbackInfo&) { Stop(); }

  // How many directories the thread has read (for tests).
  Napi::Value ReadAhead(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Napi::Number::New(info.Env(), static_cast<double>(read_ahead_));
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
    std::unique_lock<std::mutex> lock(mutex_);
    try {
      for (;;) {
        changed_.wait(lock, [this] {
          return stopping_ || (!queue_.empty() && ready_.size() < kMaxReady && ready_entries_ < kMaxReadyEntries);
        });
        if (stopping_) return;
        std::string path = std::move(queue_.front());
        queue_.erase(queue_.begin());
        reading_.push_back(path);
        Listing listing;
        try {
          lock.unlock();
          ReadListing(path, listing);
          lock.lock();
        } catch (...) {
          if (!lock.owns_lock()) lock.lock();
          Finished(path);
          throw;
        }
        Finished(path);
        read_ahead_++;
        if (!stopping_) {
          ready_entries_ += listing.names.size();
          ready_.insert_or_assign(std::move(path), std::move(listing));
        }
        changed_.notify_all();
      }
    } catch (...) {
      // Out of memory: the threads end, and every take reads on the calling thread.
      if (!lock.owns_lock()) lock.lock();
      stopping_ = true;
      queue_.clear();
      changed_.notify_all();
    }
  }

  // `path` is no longer being read. Caller holds mutex_.
  void Finished(const std::string& path) {
    auto it = std::find(reading_.begin(), reading_.end(), path);
    if (it != reading_.end()) reading_.erase(it);
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      queue_.clear();
      ready_.clear();
      ready_entries_ = 0;
      changed_.notify_all();
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  // Directories to read, the next first.
  std::deque<std::string> queue_;
  // Directories read and not taken yet, by path.
  std::unordered_map<std::string, Listing> ready_;
  size_t ready_entries_ = 0;
  // The directories the threads are reading.
  std::vector<std::string> reading_;
  bool stopping_ = false;
  uint64_t read_ahead_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace

void AddReadDirectoryFunction(Napi::Env env, Napi::Object fs) {
  fs.Set("readDirectory", Napi::Function::New(env, ReadDirectory, "readDirectory"));
  fs.Set("DirectoryPrefetcher", DirectoryPrefetcher::Define(env));
}

}  // namespace kiln
