// A SQLite VFS that wraps the default one ("unix") and hands a transaction's WAL frames to the OS in
// few large writes instead of two system calls per frame.
//
// SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then the page). A commit of
// a batch touches hundreds of pages, so the writer thread made hundreds of system calls per commit,
// each paying the kernel's entry, page-cache lookup and locking once. Through this VFS, WAL writes
// that append at the end of what was written before collect in a 1 MiB buffer of the file's handle,
// which goes to the OS (in writes of up to 120 KiB, the most the Unix VFS takes in one call) when the
// page of a commit frame (a frame header whose "database size after commit" field is non-zero) has
// been added, when the buffer is full, and before any other call on the
// file (read, size, sync, truncate, file control, close) or any write that is not such an append
// (the WAL header, a frame overwritten in place, the checksums SQLite rewrites after such
// overwrites). So every byte of a commit is in the OS's hands before SQLite publishes the commit in
// the WAL index, where readers and other processes find it: what they read, and what survives a
// kill -9, is what the default VFS would give. Durability is unchanged: the store's syncer still
// flushes the file with fdatasync before any commit is acknowledged. Other files (the database, its
// shared-memory index, journals) pass through untouched.
//
// Thread-safety: registration is idempotent and thread-safe; a file handle is used by one
// connection, as SQLite uses every file handle.
#pragma once

namespace tl::storage {

// The name to pass to sqlite3_open_v2; registers the VFS on first use. Null if the default VFS is not
// one this wrapper can stand in front of (then open with the default).
const char* WalBufferVfsName();

}  // namespace tl::storage
