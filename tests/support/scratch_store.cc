#include "tests/support/scratch_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/crypto.h"

namespace tl::testing {

std::vector<std::string> BackendNames() {
  const char* sqlite_only = std::getenv("THANGLONG_TEST_SQLITE_ONLY");
  if (sqlite_only && std::string(sqlite_only) == "1") return {"sqlite"};
  return {"sqlite", "postgres"};
}

std::string DataRoot() { return THANGLONG_TEST_DATA_ROOT; }

std::vector<storage::Migration> MigrationsBefore(const std::vector<storage::Migration>& all, int version) {
  std::vector<storage::Migration> before;
  for (const auto& m : all) {
    if (m.version < version) before.push_back(m);
  }
  return before;
}

ScratchStore::ScratchStore(const std::string& backend) : backend_(backend) {
  crypto::InitCrypto().IgnoreError();
  auto base = std::filesystem::temp_directory_path() / ("thanglong-test-" + crypto::RandomToken(9));
  std::filesystem::create_directories(base);
  dir_ = base.string();
  if (backend == "postgres") {
    const char* admin = std::getenv("THANGLONG_TEST_POSTGRES_URL");
    if (!admin || !*admin) {
      ADD_FAILURE() << "THANGLONG_TEST_POSTGRES_URL is not set: run the suite with scripts/test.sh, which starts "
                       "PostgreSQL, or set THANGLONG_TEST_SQLITE_ONLY=1 to run SQLite only";
      return;
    }
    std::string token = crypto::RandomToken(9);
    schema_ = "t_";
    for (char c : token) schema_ += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    auto db = storage::Open(admin, "", 1);
    if (!db.ok()) {
      ADD_FAILURE() << db.status().ToString();
      return;
    }
    Status st = (*db)->Write([&](storage::Session& s) { return s.ExecScript("CREATE SCHEMA " + schema_); });
    if (!st.ok()) ADD_FAILURE() << st.ToString();
    std::string a(admin);
    url_ = a + (a.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
  }
}

ScratchStore::~ScratchStore() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (!schema_.empty()) {
    const char* admin = std::getenv("THANGLONG_TEST_POSTGRES_URL");
    if (auto db = storage::Open(admin, "", 1); db.ok()) {
      (*db)->Write([&](storage::Session& s) { return s.ExecScript("DROP SCHEMA " + schema_ + " CASCADE"); })
          .IgnoreError();
    }
  }
}

std::unique_ptr<storage::Database> ScratchStore::Open(int pool) const {
  auto db = storage::Open(url_, dir_, pool);
  if (!db.ok()) {
    ADD_FAILURE() << "cannot open the " << backend_ << " store: " << db.status().ToString();
    return nullptr;
  }
  return std::move(*db);
}

}  // namespace tl::testing
