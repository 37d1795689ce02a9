// SQLite backend of storage::Database: one file, WAL journal, synchronous=FULL, foreign keys on.
//
// One writer connection (writers take a mutex and BEGIN IMMEDIATE, so other processes using the same
// file — e.g. `thanglong users create` while `serve` runs — wait on SQLite's busy timeout) and a pool
// of reader connections that read concurrently from WAL snapshots. A reader keeps its read
// transaction open from one work to the next while nothing was committed to the file (by any
// process: it watches the WAL index header in shared memory), so a read with no commit since the
// last takes no lock and makes no system call; any commit is seen by the next read. Each connection
// caches its prepared statements.
//
// Thread-safety: safe to share; connections are handed to one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace tl::storage {

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, int readers, SqliteCacheSizes caches = {});

}  // namespace tl::storage
