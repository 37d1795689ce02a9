#include <cstdlib>
#include <filesystem>

#include "storage/database.h"
#include "storage/postgres/postgres_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace tl::storage {

const std::string& Row::Text(size_t i) const {
  static const std::string kEmpty;
  const auto& c = cells_.at(i);
  return c ? *c : kEmpty;
}

int64_t Row::Int(size_t i) const {
  const auto& c = cells_.at(i);
  return c ? std::strtoll(c->c_str(), nullptr, 10) : 0;
}

double Row::Double(size_t i) const {
  const auto& c = cells_.at(i);
  return c ? std::strtod(c->c_str(), nullptr) : 0.0;
}

Result<std::unique_ptr<Database>> Open(const std::string& database_url, const std::string& data_dir, int pool_size,
                                       SqliteCacheSizes caches) {
  if (database_url.rfind("postgresql://", 0) == 0 || database_url.rfind("postgres://", 0) == 0) {
    return OpenPostgres(database_url, pool_size);
  }
  if (!database_url.empty()) {
    return InvalidArgument("database URL must start with postgresql:// (or leave it empty for the embedded store)",
                           "database");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Unavailable("cannot create data directory " + data_dir + ": " + ec.message());
  return OpenSqlite((std::filesystem::path(data_dir) / "thanglong.db").string(), pool_size, caches);
}

}  // namespace tl::storage
