// Numbered schema migrations, applied at start-up and recorded in `schema_migrations`.
//
// Each module contributes migrations with globally unique, increasing version numbers. A migration
// holds one SQL script written for both dialects; the tokens {{ID}} (auto-increment primary key)
// and {{BLOB}} (binary column) are replaced per dialect, and {{INT_KEY}} (a caller-chosen 64-bit integer
// primary key: the rowid on SQLite), and {{WITHOUT_ROWID}} after a CREATE TABLE's closing
// parenthesis (SQLite keeps the rows in the primary key's B-tree; nothing on PostgreSQL). Apply()
// runs pending ones in order, each in its own transaction, and refuses to start when the database
// records a version newer than this binary knows (a newer schema must not be run by an older binary).
// A migration with `only` set runs its script on that dialect alone and is recorded as applied on
// every dialect (a table rebuilt into a layout only SQLite has).
//
// Thread-safety: call Apply() once, before serving.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"

namespace tl::storage {

struct Migration {
  int version;
  std::string name;
  std::string sql;
  std::optional<Dialect> only = std::nullopt;  // the one dialect the script is for; the others record it and skip it
};

std::string RenderForDialect(const std::string& sql, Dialect dialect);

// SQL that rebuilds `table` under a new definition (the text between the parentheses of its CREATE
// TABLE), copying `columns` (comma-separated, in both layouts): created as `table`_rowid, filled,
// the old table dropped with its indexes, the new one renamed. Indexes are the caller's to recreate.
std::string RebuildTableSql(const std::string& table, const std::string& definition, const std::string& columns);

// Applies pending `migrations` (sorted by version). Returns the number applied.
Result<int> ApplyMigrations(Database& db, std::vector<Migration> migrations);

}  // namespace tl::storage
