// PostgreSQL backend of storage::Database, over libpq.
//
// A bounded pool of connections created on demand; each transaction takes one connection for its
// duration. `?` placeholders are rewritten to `$n`, and statements are prepared once per connection.
// SQLSTATE 23505 maps to AlreadyExists, 23503 to FailedPrecondition, connection loss to Unavailable
// (the connection is reset and retried on the next use).
//
// Thread-safety: safe to share between threads.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace tl::storage {

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, int pool_size);

// "SELECT ? , '?'" -> "SELECT $1 , '?'" (placeholders inside quotes are left alone).
std::string RewritePlaceholders(std::string_view sql);

// The URL with any password replaced by "***".
std::string MaskPostgresUrl(const std::string& url);

}  // namespace tl::storage
