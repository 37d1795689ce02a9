#include "storage/sqlite/wal_buffer_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tl::storage {
namespace {

constexpr const char* kName = "tl-walbuf";
constexpr int kFrameHeaderBytes = 24;         // a WAL frame's header, written by SQLite in its own call
constexpr sqlite3_int64 kCapacity = 1 << 20;  // at most this much held before it goes to the OS
// The Unix VFS writes at most 0x1ffff bytes per call (its seekAndWrite masks the length with it, and
// a longer write comes back short, as SQLITE_FULL), so a flush hands the buffer over in pieces.
constexpr sqlite3_int64 kMaxWrite = 120 << 10;

// One open file. SQLite allocates szOsFile bytes per file: this struct, then the wrapped VFS's own
// file object (`real`), which every call is forwarded to.
struct File {
  sqlite3_file base;  // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* real;
  // WAL files only: bytes appended since the last write to the OS, for offsets [held_at, held_at + held).
  char* buffer;
  sqlite3_int64 held_at;
  sqlite3_int64 held;
  sqlite3_int64 end;      // where the last write ended (-1: unknown); an append starts there
  bool commit_page_next;  // the last write was the header of a commit frame
};

constexpr int kFileBytes = static_cast<int>((sizeof(File) + 7) & ~size_t{7});

sqlite3_vfs* Wrapped(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}
File* Of(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}
const sqlite3_io_methods* Real(File* f) {
  return f->real->pMethods;
}

// Hands what is held to the OS, in calls of at most kMaxWrite bytes.
int Flush(File* f) {
  int rc = SQLITE_OK;
  for (sqlite3_int64 done = 0; done < f->held && rc == SQLITE_OK; done += kMaxWrite) {
    const int n = static_cast<int>(std::min(kMaxWrite, f->held - done));
    rc = Real(f)->xWrite(f->real, f->buffer + done, n, f->held_at + done);
  }
  f->held = 0;
  return rc;
}

// The "database size after commit" field of a frame header (big-endian, bytes 4..7): non-zero only in
// the last frame of a transaction.
bool IsCommitFrameHeader(const void* data, int n) {
  if (n != kFrameHeaderBytes) return false;
  const auto* p = static_cast<const unsigned char*>(data);
  return (p[4] | p[5] | p[6] | p[7]) != 0;
}

// --- every file: forwarded --------------------------------------------------------------------

// Forward<&sqlite3_io_methods::xRead>::Call and so on (kForward below): the wrapped file's method,
// called on it.
template <auto Method>
struct Forward;
template <typename R, typename... Args, R (*sqlite3_io_methods::*Method)(sqlite3_file*, Args...)>
struct Forward<Method> {
  static R Call(sqlite3_file* file, Args... args) { return (Real(Of(file))->*Method)(Of(file)->real, args...); }
};

// The same once what a WAL file holds has gone to the OS (a failed flush is the call's outcome).
template <auto Method>
struct FlushThenForward;
template <typename... Args, int (*sqlite3_io_methods::*Method)(sqlite3_file*, Args...)>
struct FlushThenForward<Method> {
  static int Call(sqlite3_file* file, Args... args) {
    int rc = Flush(Of(file));
    return rc != SQLITE_OK ? rc : (Real(Of(file))->*Method)(Of(file)->real, args...);
  }
};

int Close(sqlite3_file* file) {
  File* f = Of(file);
  int flushed = Flush(f);
  int rc = Real(f)->xClose(f->real);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

// --- WAL files: appends held, everything else after a flush -------------------------------------

int WalWrite(sqlite3_file* file, const void* data, int n, sqlite3_int64 off) {
  File* f = Of(file);
  // SQLite writes a frame as its header, then its page: after a commit frame's header comes the
  // last write of the transaction.
  const bool last_of_commit = f->commit_page_next;
  f->commit_page_next = IsCommitFrameHeader(data, n);
  const bool append = f->end >= 0 && off == f->end && n <= kCapacity;
  if (!append || f->held + n > kCapacity) {
    int rc = Flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  f->end = off + n;
  if (!append) {
    // The WAL header, a frame overwritten in place, a rewritten checksum, the first write through
    // this handle (another connection may have appended since): straight to the OS.
    return Real(f)->xWrite(f->real, data, n, off);
  }
  if (f->buffer == nullptr) {
    f->buffer = static_cast<char*>(sqlite3_malloc64(kCapacity));
    if (f->buffer == nullptr) return SQLITE_IOERR_NOMEM;
  }
  if (f->held == 0) f->held_at = off;
  std::memcpy(f->buffer + f->held, data, static_cast<size_t>(n));
  f->held += n;
  // The commit frame is complete: the whole transaction goes to the OS before SQLite publishes it.
  return last_of_commit ? Flush(f) : SQLITE_OK;
}

int WalTruncate(sqlite3_file* file, sqlite3_int64 size) {
  Of(file)->end = -1;
  return FlushThenForward<&sqlite3_io_methods::xTruncate>::Call(file, size);
}

template <auto Method>
constexpr auto kForward = &Forward<Method>::Call;
template <auto Method>
constexpr auto kFlushThen = &FlushThenForward<Method>::Call;
using M = sqlite3_io_methods;
constexpr sqlite3_io_methods kPassThrough = {
    3,
    Close,
    kForward<&M::xRead>,
    kForward<&M::xWrite>,
    kForward<&M::xTruncate>,
    kForward<&M::xSync>,
    kForward<&M::xFileSize>,
    kForward<&M::xLock>,
    kForward<&M::xUnlock>,
    kForward<&M::xCheckReservedLock>,
    kForward<&M::xFileControl>,
    kForward<&M::xSectorSize>,
    kForward<&M::xDeviceCharacteristics>,
    kForward<&M::xShmMap>,
    kForward<&M::xShmLock>,
    kForward<&M::xShmBarrier>,
    kForward<&M::xShmUnmap>,
    kForward<&M::xFetch>,
    kForward<&M::xUnfetch>,
};
// The WAL's methods: the same, except that writes are held and whatever reads, measures, syncs or
// controls the file first hands them to the OS.
constexpr sqlite3_io_methods WithHeldWrites(sqlite3_io_methods m) {
  m.xRead = kFlushThen<&M::xRead>;
  m.xWrite = WalWrite;
  m.xTruncate = WalTruncate;
  m.xSync = kFlushThen<&M::xSync>;
  m.xFileSize = kFlushThen<&M::xFileSize>;
  m.xFileControl = kFlushThen<&M::xFileControl>;
  m.xFetch = kFlushThen<&M::xFetch>;
  return m;
}
const sqlite3_io_methods kWal = WithHeldWrites(kPassThrough);

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = Of(file);
  std::memset(f, 0, sizeof(File));
  f->end = -1;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kFileBytes);
  int rc = Wrapped(vfs)->xOpen(Wrapped(vfs), name, f->real, flags, out_flags);
  // SQLite closes a file whose methods are set, even when its open failed.
  if (f->real->pMethods == nullptr) {
    f->base.pMethods = nullptr;
    return rc;
  }
  f->base.pMethods = (flags & SQLITE_OPEN_WAL) ? &kWal : &kPassThrough;
  return rc;
}

sqlite3_vfs* Register() {
  sqlite3_vfs* wrapped = sqlite3_vfs_find(nullptr);
  // Forwarding relies on version-3 file methods, which the default Unix VFS has.
  if (wrapped == nullptr || std::strcmp(wrapped->zName, "unix") != 0 || wrapped->iVersion < 3) return nullptr;
  static sqlite3_vfs vfs = *wrapped;  // the wrapped VFS's other methods serve as they are
  vfs.pNext = nullptr;
  vfs.zName = kName;
  vfs.pAppData = wrapped;
  vfs.szOsFile = kFileBytes + wrapped->szOsFile;
  vfs.xOpen = Open;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return &vfs;
}

}  // namespace

const char* WalBufferVfsName() {
  static sqlite3_vfs* const vfs = Register();
  return vfs != nullptr ? kName : nullptr;
}

}  // namespace tl::storage
