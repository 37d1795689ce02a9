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
    undo_.push_back({key, it->second, false});
    it->second.value = std::move(value);
    return;
  }
  undo_.push_back({key, std::nullopt, false});
  slots_.insert(it, {key, Slot{std::move(value), std::move(flush)}});
}

void TransactionCache::AddRow(const std::string& key, Row row, RowsFlushFn flush) {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), key,
                             [](const auto& rows, const std::string& k) { return rows.first < k; });
  if (it == rows_.end() || it->first != key) it = rows_.insert(it, {key, Rows{{}, std::move(flush)}});
  it->second.rows.push_back(std::move(row));
  undo_.push_back({key, std::nullopt, true});
}

void TransactionCache::DropFrom(size_t mark) {
  while (undo_.size() > mark) {
    Undo u = std::move(undo_.back());
    undo_.pop_back();
    if (u.row) {
      auto it = std::find_if(rows_.begin(), rows_.end(), [&](const auto& rows) { return rows.first == u.key; });
      if (it == rows_.end()) continue;
      it->second.rows.pop_back();
      if (it->second.rows.empty()) rows_.erase(it);
      continue;
    }
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const auto& slot) { return slot.first == u.key; });
    if (it == slots_.end()) continue;
    if (u.before) {
      it->second = std::move(*u.before);
    } else {
      slots_.erase(it);
    }
  }
}

Status TransactionCache::Flush(Session& s) const {
  for (const auto& [key, slot] : slots_) TL_RETURN_IF_ERROR(slot.flush(s, slot.value));
  for (const auto& [key, rows] : rows_) TL_RETURN_IF_ERROR(rows.flush(s, rows.rows));
  return Status::Ok();
}

Status InsertRows(Session& s, const std::string& insert_prefix, size_t columns,
                  const std::vector<TransactionCache::Row>& rows) {
  constexpr size_t kPerStatement = 100;
  std::string one = "(";
  for (size_t c = 0; c < columns; ++c) one += c ? ", ?" : "?";
  one += ")";
  for (size_t first = 0; first < rows.size(); first += kPerStatement) {
    const size_t end = std::min(rows.size(), first + kPerStatement);
    std::string sql = insert_prefix;
    std::vector<Value> params;
    params.reserve((end - first) * columns);
    for (size_t r = first; r < end; ++r) {
      if (rows[r].size() != columns)
        return Internal("a row of " + std::to_string(rows[r].size()) + " values, not " + std::to_string(columns) +
                        ", for: " + insert_prefix);
      sql += r == first ? one : ", " + one;
      params.insert(params.end(), rows[r].begin(), rows[r].end());
    }
    TL_RETURN_IF_ERROR(s.ExecV(sql, params).status());
  }
  return Status::Ok();
}

Status AppendRows(Session& s, const std::string& insert_prefix, size_t columns,
                  std::vector<TransactionCache::Row> rows) {
  TransactionCache* cache = s.transaction_cache();
  if (cache == nullptr) return InsertRows(s, insert_prefix, columns, rows);
  for (auto& row : rows) {
    cache->AddRow(insert_prefix, std::move(row),
                  [insert_prefix, columns](Session& session, const std::vector<TransactionCache::Row>& all) {
                    return InsertRows(session, insert_prefix, columns, all);
                  });
  }
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
