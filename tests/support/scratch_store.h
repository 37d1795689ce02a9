// Test support: a fresh, empty store on each backend the suite runs against.
//
// BackendNames() is {"sqlite", "postgres"}: PostgreSQL is reached through THANGLONG_TEST_POSTGRES_URL
// (set by scripts/test.sh, which starts a throwaway server). Without it the PostgreSQL cases fail
// loudly, unless THANGLONG_TEST_SQLITE_ONLY=1 is set explicitly. Each ScratchStore gets its own
// temporary directory (SQLite) or its own schema (PostgreSQL), removed afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::testing {

std::vector<std::string> BackendNames();

class ScratchStore {
 public:
  explicit ScratchStore(const std::string& backend);
  ~ScratchStore();
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;

  const std::string& backend() const { return backend_; }
  const std::string& database_url() const { return url_; }  // empty for SQLite
  const std::string& data_dir() const { return dir_; }
  std::unique_ptr<storage::Database> Open(int pool = 4) const;

 private:
  std::string backend_, url_, dir_, schema_;
};

// The source tree's data/ folder.
std::string DataRoot();

// The migrations of `all` numbered below `version`: the schema an older binary left, for tests that
// upgrade a store holding data.
std::vector<storage::Migration> MigrationsBefore(const std::vector<storage::Migration>& all, int version);

}  // namespace tl::testing
