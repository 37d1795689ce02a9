#include <algorithm>
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

const TransactionCache::Value* TransactionCache::Find(const std::string& key) const {
  for (const auto& [k, slot] : slots_) {
    if (k == key) return &slot.value;
  }
  return nullptr;
}

void TransactionCache::Set(const std::string& key, Value value, FlushFn flush) {
  auto it = std::lower_bound(slots_.begin(), slots_.end(), key,
                             [](const auto& slot, const std::string& k) { return slot.first < k; });
  if (it != slots_.end() && it->first == key) {
    undo_.emplace_back(key, it->second);
    it->second.value = std::move(value);
    return;
  }
  undo_.emplace_back(key, std::nullopt);
  slots_.insert(it, {key, Slot{std::move(value), std::move(flush)}});
}

void TransactionCache::DropFrom(size_t mark) {
  while (undo_.size() > mark) {
    auto [key, before] = std::move(undo_.back());
    undo_.pop_back();
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const auto& slot) { return slot.first == key; });
    if (it == slots_.end()) continue;
    if (before) {
      it->second = std::move(*before);
    } else {
      slots_.erase(it);
    }
  }
}

Status TransactionCache::Flush(Session& s) const {
  for (const auto& [key, slot] : slots_) TL_RETURN_IF_ERROR(slot.flush(s, slot.value));
  return Status::Ok();
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
