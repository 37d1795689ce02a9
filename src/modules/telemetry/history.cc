#include "modules/telemetry/history.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_set>

#include "core/civil_date.h"
#include "core/text.h"
#include "modules/telemetry/history_format.h"

namespace tl::telemetry {
namespace {

using storage::Blob;
using storage::ResultSet;
using storage::Session;
using storage::Value;

constexpr size_t kRowsPerStatement = 128;      // rows per multi-row INSERT / OR-list
constexpr int kMaxAttempts = 8;                // optimistic rounds before giving up
constexpr int64_t kMaxLogRowsPerFold = 4096;   // log rows one fold transaction takes
constexpr size_t kMaxFoldSamples = 1'000'000;  // samples one fold transaction takes (about)
constexpr int64_t kStepLimit = 2048;           // heads, chunks per seal / rollup / expiry transaction
constexpr size_t kMaxHeadsPerFoldWrite = 2048;  // series one fold transaction writes (the fold may take several)
constexpr int kSeqShift = 22;                  // chunk seq = fold id << 22 | counter
constexpr size_t kMaxSegmentEntries = 65536;
// A fold makes at most one chunk or head per sample and one head per series: its counter fits.
static_assert(2 * (kMaxFoldSamples + kMaxSegmentEntries) < (size_t{1} << kSeqShift));
constexpr char kKeySeparator = '\x1f';
constexpr size_t kParallelSeries = 256;  // aggregations over this many series use two threads

Status Changed() {
  return Conflict("telemetry rows changed underneath this step");
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t SubSat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? std::numeric_limits<int64_t>::min() : r;
}

// "?, ?, ?" style repetition.
std::string Repeat(std::string_view item, std::string_view sep, size_t n) {
  std::string out;
  out.reserve(n * (item.size() + sep.size()));
  for (size_t i = 0; i < n; ++i) {
    if (i) out += sep;
    out += item;
  }
  return out;
}

// A double parameter. The PostgreSQL driver sends numbers as text and std::to_string would keep six
// decimals, so doubles go there as text with 17 significant digits (exact), and as doubles to SQLite.
Value Real(bool postgres, double v) {
  if (!postgres) return v;
  if (std::isinf(v)) return std::string(v > 0 ? "Infinity" : "-Infinity");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf);
}

// Runs one statement per slice of at most kRowsPerStatement rows of `params` (rows × width values);
// `sql_for(rows)` gives the statement for a slice. Returns the total number of rows changed.
Result<int64_t> ExecSlices(Session& s, const std::vector<Value>& params, size_t width,
                           const std::function<std::string(size_t)>& sql_for) {
  const size_t rows = params.size() / width;
  int64_t changed = 0;
  std::vector<Value> slice;
  for (size_t r = 0; r < rows; r += kRowsPerStatement) {
    size_t n = std::min(kRowsPerStatement, rows - r);
    slice.assign(params.begin() + static_cast<ptrdiff_t>(r * width),
                 params.begin() + static_cast<ptrdiff_t>((r + n) * width));
    TL_ASSIGN_OR_RETURN(int64_t c, s.ExecV(sql_for(n), slice));
    changed += c;
  }
  return changed;
}

Status QuerySlices(Session& s, const std::vector<Value>& params, size_t width,
                   const std::function<std::string(size_t)>& sql_for, std::vector<storage::Row>& out) {
  const size_t rows = params.size() / width;
  std::vector<Value> slice;
  for (size_t r = 0; r < rows; r += kRowsPerStatement) {
    size_t n = std::min(kRowsPerStatement, rows - r);
    slice.assign(params.begin() + static_cast<ptrdiff_t>(r * width),
                 params.begin() + static_cast<ptrdiff_t>((r + n) * width));
    TL_ASSIGN_OR_RETURN(ResultSet rs, s.QueryV(sql_for(n), slice));
    for (auto& row : rs.rows) out.push_back(std::move(row));
  }
  return Status::Ok();
}

// Inserts must not collide with rows another process wrote meanwhile: a collision is a conflict.
Status AsConflict(Status st) {
  if (storage::IsUniqueViolation(st)) return Changed();
  return st;
}

// Blob columns in result sets. PostgreSQL's driver returns BYTEA in its hex text form and decodes it
// one byte at a time, which took a third of a large aggregation; there the queries select
// encode(data, 'base64') instead and decode that here. "{{data}}" and "{{c.data}}" in a SELECT list
// stand for the column.
std::string WithBlobs(bool postgres, std::string sql) {
  for (const char* column : {"c.data", "data"}) {
    const std::string token = std::string("{{") + column + "}}";
    const std::string with = postgres ? std::string("encode(") + column + ", 'base64')" : column;
    for (size_t pos = 0; (pos = sql.find(token, pos)) != std::string::npos; pos += with.size()) {
      sql.replace(pos, token.size(), with);
    }
  }
  return sql;
}

Result<std::string> Base64Decode(std::string_view text) {
  static constexpr auto kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    t['\n'] = t['\r'] = -2;  // PostgreSQL wraps lines at 76 characters
    t['='] = -3;
    return t;
  }();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char ch : text) {
    int8_t v = kTable[static_cast<unsigned char>(ch)];
    if (v == -2) continue;
    if (v == -3) {
      padding = true;
      continue;
    }
    if (v < 0 || padding) return Internal("malformed base64 from the database");
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits));
    }
  }
  return out;
}

// The bytes of blob column `i` of a row selected through WithBlobs.
Result<std::string> BlobAt(bool postgres, const storage::Row& row, size_t i) {
  if (!postgres) return row.Text(i);
  return Base64Decode(row.Text(i));
}

// Past the checks of a call's arguments, an InvalidArgument can only come from stored bytes (a corrupt
// chunk, log segment or rollup block): the store's fault, not the caller's.
template <typename T>
Result<T> StoredData(Result<T> r) {
  if (!r.ok() && r.status().code() == StatusCode::kInvalidArgument) {
    return Internal("telemetry store: " + r.status().message());
  }
  return r;
}

template <typename F>
auto WithRetries(F&& attempt) -> decltype(attempt()) {
  std::minstd_rand rng(std::random_device{}());
  for (int i = 1;; ++i) {
    auto r = attempt();
    if (r.ok() || r.status().code() != StatusCode::kConflict || i >= kMaxAttempts) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % (5 * i)));
  }
}

Status CheckKeyPart(std::string_view s, size_t index, const char* name, bool allow_empty) {
  auto field = [&] { return "measurements[" + std::to_string(index) + "]." + name; };
  if (s.empty() && !allow_empty) return InvalidArgument(std::string(name) + " must not be empty", field());
  if (s.size() > kMaxKeyPartBytes) return InvalidArgument(std::string(name) + " is too long", field());
  if (!text::IsValidUtf8(s)) return InvalidArgument(std::string(name) + " is not valid UTF-8", field());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return InvalidArgument(std::string(name) + " holds a control character", field());
  }
  return Status::Ok();
}

// Months since year 0 (UTC), the unit of PostgreSQL's chunk partitions.
int64_t MonthOf(int64_t t_ms) {
  CivilDate d = CivilDateFromDays(FloorDiv(t_ms, kMillisPerDay));
  return int64_t{d.year} * 12 + (d.month - 1);
}
int64_t MonthStartMs(int64_t month) {
  CivilDate d{static_cast<int>(month / 12), static_cast<int>(month % 12) + 1, 1};
  return DaysSinceEpoch(d) * kMillisPerDay;
}
std::string PartitionName(int64_t month) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "telemetry_chunks_y%04lldm%02lld", static_cast<long long>(month / 12),
                static_cast<long long>(month % 12 + 1));
  return buf;
}
std::optional<int64_t> PartitionMonth(std::string_view name) {
  int year = 0, month = 0;
  std::string s(name);
  if (std::sscanf(s.c_str(), "telemetry_chunks_y%4dm%2d", &year, &month) != 2 || month < 1 || month > 12) {
    return std::nullopt;
  }
  return int64_t{year} * 12 + (month - 1);
}

// Splits sorted samples into chunks of at most `target` samples spanning at most kChunkSpanMs.
template <typename F>
void CutSorted(std::span<const Sample> samples, uint32_t target, F&& emit) {
  size_t begin = 0;
  for (size_t i = 1; i <= samples.size(); ++i) {
    if (i == samples.size() || i - begin >= target || samples[i].t_ms - samples[begin].t_ms > kChunkSpanMs) {
      emit(samples.subspan(begin, i - begin));
      begin = i;
    }
  }
}

// A chunk to insert, with its summary columns.
struct ChunkRow {
  int64_t series_id = 0;
  int64_t seq = 0;
  std::string data;
  ChunkSummary summary;
};

Result<ChunkRow> MakeChunkRow(int64_t series_id, int64_t seq, std::string data) {
  TL_ASSIGN_OR_RETURN(ChunkSummary summary, ReadChunkSummary(data));
  return ChunkRow{series_id, seq, std::move(data), summary};
}

Status InsertChunks(Session& s, bool postgres, const std::vector<ChunkRow>& chunks) {
  if (chunks.empty()) return Status::Ok();
  std::vector<Value> params;
  params.reserve(chunks.size() * 10);
  for (const ChunkRow& c : chunks) {
    params.insert(params.end(), {c.series_id, c.summary.first_ms, c.seq, c.summary.last_ms, int64_t{c.summary.count},
                                 Real(postgres, c.summary.min), Real(postgres, c.summary.max),
                                 Real(postgres, c.summary.sum), Real(postgres, c.summary.sumsq), Blob{c.data}});
  }
  auto st = ExecSlices(s, params, 10, [](size_t n) {
    return "INSERT INTO telemetry_chunks (series_id, first_ms, seq, last_ms, count, min, max, sum, sumsq, data) "
           "VALUES " +
           Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ", ", n);
  });
  TL_RETURN_IF_ERROR(AsConflict(st.status()));
  // Each new chunk waits in telemetry_pending for the 1-hour rollup (chunks themselves are never updated).
  params.clear();
  for (const ChunkRow& c : chunks) params.insert(params.end(), {c.series_id, c.summary.first_ms, c.seq});
  st = ExecSlices(s, params, 3, [](size_t n) {
    return "INSERT INTO telemetry_pending (series_id, first_ms, seq) VALUES " + Repeat("(?, ?, ?)", ", ", n);
  });
  return AsConflict(st.status());
}

// Deletes rows by key columns (an OR of equalities); a conflict unless exactly all of them went.
Status DeleteExactly(Session& s, std::string_view table, std::string_view key_condition, size_t width,
                     const std::vector<Value>& keys, std::string_view extra = "") {
  if (keys.empty()) return Status::Ok();
  std::string head = "DELETE FROM " + std::string(table) + " WHERE " + std::string(extra) + "(";
  TL_ASSIGN_OR_RETURN(int64_t n, ExecSlices(s, keys, width, [&](size_t rows) {
                        return head + Repeat(key_condition, " OR ", rows) + ")";
                      }));
  if (static_cast<size_t>(n) != keys.size() / width) return Changed();
  return Status::Ok();
}

// A rollup row (telemetry_hours or telemetry_minutes) as read: its version and records.
struct RollupRow {
  int64_t version = 0;
  std::vector<RollupRecord> records;
};
using RollupKey = std::pair<int64_t, int64_t>;  // series id, bucket start

// Reads the rows of `keys` from `table`.
Status LoadRollupRows(Session& s, bool postgres, const std::string& table, int64_t granularity,
                      const std::vector<RollupKey>& keys, std::map<RollupKey, RollupRow>& out) {
  std::vector<Value> params;
  for (const auto& [series, bucket] : keys) params.insert(params.end(), {series, bucket});
  std::vector<storage::Row> rows;
  TL_RETURN_IF_ERROR(QuerySlices(
      s, params, 2,
      [&](size_t n) {
        return WithBlobs(postgres, "SELECT series_id, bucket_ms, version, {{data}} FROM " + table + " WHERE " +
                                       Repeat("(series_id = ? AND bucket_ms = ?)", " OR ", n));
      },
      rows));
  for (const auto& row : rows) {
    RollupRow r;
    r.version = row.Int(2);
    TL_ASSIGN_OR_RETURN(std::string block, BlobAt(postgres, row, 3));
    TL_RETURN_IF_ERROR(DecodeRollupBlock(block, row.Int(1), granularity, r.records));
    out[{row.Int(0), row.Int(1)}] = std::move(r);
  }
  return Status::Ok();
}

// The new contents of rollup rows: merged records per (series, bucket), with the version read (0: new).
struct RollupWrite {
  RollupKey key;
  int64_t old_version = 0;
  std::string data;
};

Result<std::vector<RollupWrite>> MergeRollups(const std::map<RollupKey, std::vector<RollupRecord>>& added,
                                              const std::map<RollupKey, RollupRow>& existing, int64_t granularity) {
  std::vector<RollupWrite> out;
  out.reserve(added.size());
  for (const auto& [key, records] : added) {
    auto it = existing.find(key);
    std::vector<RollupRecord> merged = it == existing.end() ? records : MergeRollupRecords(it->second.records, records);
    TL_ASSIGN_OR_RETURN(std::string data, EncodeRollupBlock(key.second, granularity, merged));
    out.push_back({key, it == existing.end() ? 0 : it->second.version, std::move(data)});
  }
  return out;
}

// "(CAST(? AS BIGINT), ..., CAST(? AS BLOB))": a typed row of parameters for UPDATE ... FROM (VALUES ...),
// `ints` integers and then a blob.
std::string TypedValuesRow(bool postgres, int ints) {
  std::string row = "(";
  for (int i = 0; i < ints; ++i) row += "CAST(? AS BIGINT), ";
  return row + "CAST(? AS " + (postgres ? "BYTEA" : "BLOB") + "))";
}

// Writes rollup rows: existing ones updated in place only at the version read, new ones inserted
// only if still absent; anything else is a conflict.
Status WriteRollups(Session& s, bool postgres, const std::string& table, const std::vector<RollupWrite>& writes) {
  std::vector<Value> changed, rows;
  for (const RollupWrite& w : writes) {
    if (w.old_version > 0) {
      changed.insert(changed.end(), {w.key.first, w.key.second, w.old_version, Blob{w.data}});
    } else {
      rows.insert(rows.end(), {w.key.first, w.key.second, int64_t{1}, Blob{w.data}});
    }
  }
  if (!changed.empty()) {
    TL_ASSIGN_OR_RETURN(int64_t n, ExecSlices(s, changed, 4, [&](size_t k) {
                          return "UPDATE " + table + " SET version = v.column3 + 1, data = v.column4 FROM (VALUES " +
                                 Repeat(TypedValuesRow(postgres, 3), ", ", k) + ") AS v WHERE " + table +
                                 ".series_id = v.column1 AND " + table + ".bucket_ms = v.column2 AND " + table +
                                 ".version = v.column3";
                        }));
    if (static_cast<size_t>(n) != changed.size() / 4) return Changed();
  }
  if (rows.empty()) return Status::Ok();
  auto st = ExecSlices(s, rows, 4, [&](size_t n) {
    return "INSERT INTO " + table + " (series_id, bucket_ms, version, data) VALUES " + Repeat("(?, ?, ?, ?)", ", ", n);
  });
  return AsConflict(st.status());
}

// Rollup records of chunks, grouped by (series, bucket).
Status AddChunkRollups(int64_t series_id, std::string_view chunk, int64_t granularity, int64_t bucket_len,
                       int64_t keep_since, std::map<RollupKey, std::vector<RollupRecord>>& out) {
  TL_ASSIGN_OR_RETURN(std::vector<RollupRecord> records, RollupChunk(chunk, granularity));
  for (const RollupRecord& r : records) {
    if (r.start_ms < keep_since) continue;
    int64_t bucket = FloorDiv(r.start_ms, bucket_len) * bucket_len;
    auto& list = out[{series_id, bucket}];
    if (!list.empty() && list.back().start_ms >= r.start_ms) {
      std::vector<RollupRecord> one{r};
      list = MergeRollupRecords(list, one);
    } else {
      list.push_back(r);
    }
  }
  return Status::Ok();
}

std::string MigrationSql(bool postgres) {
  const char* real = postgres ? "DOUBLE PRECISION" : "REAL";
  const char* without_rowid = postgres ? "" : " WITHOUT ROWID";
  std::string sql =
      "CREATE TABLE telemetry_series (\n"
      "  id {{ID}},\n"
      "  tenant TEXT NOT NULL,\n"
      "  entity_id TEXT NOT NULL,\n"
      "  attribute TEXT NOT NULL,\n"
      "  UNIQUE (tenant, entity_id, attribute));\n"
      "CREATE TABLE telemetry_log (\n"
      "  id {{ID}},\n"
      "  shard INTEGER NOT NULL,\n"
      "  min_ms BIGINT NOT NULL,\n"
      "  max_ms BIGINT NOT NULL,\n"
      "  count INTEGER NOT NULL,\n"
      "  data {{BLOB}} NOT NULL);\n"
      "CREATE INDEX telemetry_log_shard ON telemetry_log (shard, id);\n"
      "CREATE TABLE telemetry_heads (\n"
      "  series_id {{INT_KEY}},\n"
      "  seq BIGINT NOT NULL,\n"
      "  version BIGINT NOT NULL,\n"
      "  first_ms BIGINT NOT NULL,\n"
      "  last_ms BIGINT NOT NULL,\n"
      "  count INTEGER NOT NULL,\n"
      "  data {{BLOB}} NOT NULL)" +
      std::string(postgres ? " WITH (fillfactor = 50)" : "") + ";\n" +
      "CREATE INDEX telemetry_heads_first ON telemetry_heads (first_ms);\n"
      "CREATE TABLE telemetry_chunks (\n"
      "  series_id BIGINT NOT NULL,\n"
      "  first_ms BIGINT NOT NULL,\n"
      "  seq BIGINT NOT NULL,\n"
      "  last_ms BIGINT NOT NULL,\n"
      "  count INTEGER NOT NULL,\n"
      "  min " +
      std::string(real) +
      " NOT NULL,\n"
      "  max " +
      real +
      " NOT NULL,\n"
      "  sum " +
      real +
      " NOT NULL,\n"
      "  sumsq " +
      real +
      " NOT NULL,\n"
      "  data {{BLOB}} NOT NULL,\n"
      "  PRIMARY KEY (series_id, first_ms, seq))" +
      (postgres ? " PARTITION BY RANGE (first_ms)" : without_rowid) + ";\n" +
      "CREATE INDEX telemetry_chunks_time ON telemetry_chunks (first_ms);\n"
      "CREATE TABLE telemetry_pending (\n"
      "  series_id BIGINT NOT NULL,\n"
      "  first_ms BIGINT NOT NULL,\n"
      "  seq BIGINT NOT NULL,\n"
      "  PRIMARY KEY (series_id, first_ms, seq))" +
      without_rowid + ";\n";
  for (const char* table : {"telemetry_hours", "telemetry_minutes"}) {
    sql += std::string("CREATE TABLE ") + table +
           " (\n"
           "  series_id BIGINT NOT NULL,\n"
           "  bucket_ms BIGINT NOT NULL,\n"
           "  version BIGINT NOT NULL,\n"
           "  data {{BLOB}} NOT NULL,\n"
           "  PRIMARY KEY (series_id, bucket_ms))" +
           without_rowid + ";\n" + "CREATE INDEX " + table + "_bucket ON " + table + " (bucket_ms);\n";
    // A block of a few kB is dense already: keep it in the row rather than in TOAST, where every read
    // would take a second index look-up.
    if (postgres) sql += std::string("ALTER TABLE ") + table + " ALTER COLUMN data SET STORAGE MAIN;\n";
  }
  return sql;
}

}  // namespace

std::string SeriesCacheKey(std::string_view tenant, std::string_view entity_id, std::string_view attribute) {
  std::string key;
  key.reserve(tenant.size() + entity_id.size() + attribute.size() + 2);
  key.append(tenant).push_back(kKeySeparator);
  key.append(entity_id).push_back(kKeySeparator);
  key.append(attribute);
  return key;
}

// ---- Opening -----------------------------------------------------------------------------------------

std::vector<storage::Migration> TelemetryStore::Migrations(storage::Dialect dialect) {
  return {{950, "telemetry history: series, log, heads, chunks, rollups",
           MigrationSql(dialect == storage::Dialect::kPostgres)},
          // The last log row whose samples a head accounts for: a fold writes its heads in several
          // transactions, and one redone after a failure skips what a head already holds.
          {951, "telemetry heads: folded_through",
           "ALTER TABLE telemetry_heads ADD COLUMN folded_through BIGINT NOT NULL DEFAULT 0"}};
}

Result<std::unique_ptr<TelemetryStore>> TelemetryStore::Open(storage::Database* db, TelemetryOptions options) {
  if (db == nullptr) return InvalidArgument("no database", "db");
  TL_RETURN_IF_ERROR(options.retention.Validate());
  if (options.chunk_samples < 2 || options.chunk_samples > kMaxChunkSamples) {
    return InvalidArgument("chunk_samples must be 2 to " + std::to_string(kMaxChunkSamples), "chunk_samples");
  }
  if (options.fold_after_samples < 0) return InvalidArgument("fold_after_samples must be >= 0", "fold_after_samples");
  return std::unique_ptr<TelemetryStore>(new TelemetryStore(db, options));
}

TelemetryStore::TelemetryStore(storage::Database* db, TelemetryOptions options)
    : db_(db), options_(options), postgres_(db->dialect() == storage::Dialect::kPostgres) {}

TelemetryStore::~TelemetryStore() = default;

Status TelemetryStore::ReadSnapshot(const storage::Database::Work& work) const {
  if (!postgres_) return db_->Read(work);
  // PostgreSQL's reads run statement by statement at READ COMMITTED; a fold committing between two
  // of them could show a sample twice (in the log and in a chunk) or not at all.
  return db_->Write([&](Session& s) -> Status {
    TL_RETURN_IF_ERROR(s.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    return work(s);
  });
}

// ---- Series ------------------------------------------------------------------------------------------

Result<std::vector<int64_t>> TelemetryStore::ResolveSeries(const std::vector<std::string>& keys, bool create) const {
  std::vector<int64_t> ids;
  auto work = [&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(ids, SeriesIdsIn(s, keys, create));
    return Status::Ok();
  };
  TL_RETURN_IF_ERROR(create ? db_->Write(work) : db_->Read(work));
  std::unique_lock lock(cache_mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (ids[i] > 0) cache_.emplace(keys[i], ids[i]);
  }
  return ids;
}

Result<std::vector<int64_t>> TelemetryStore::SeriesIdsIn(Session& s, const std::vector<std::string>& keys,
                                                         bool create) {
  std::vector<int64_t> ids(keys.size(), 0);
  std::vector<Value> params;
  params.reserve(keys.size() * 3);
  std::unordered_map<std::string_view, size_t> position;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    size_t a = k.find(kKeySeparator);
    size_t b = k.find(kKeySeparator, a + 1);
    params.insert(params.end(), {k.substr(0, a), k.substr(a + 1, b - a - 1), k.substr(b + 1)});
    position.emplace(k, i);
  }
  auto select = [&](const std::vector<Value>& keys3) -> Status {
    std::vector<storage::Row> rows;
    TL_RETURN_IF_ERROR(QuerySlices(
        s, keys3, 3,
        [](size_t n) {
          return "SELECT id, tenant, entity_id, attribute FROM telemetry_series WHERE " +
                 Repeat("(tenant = ? AND entity_id = ? AND attribute = ?)", " OR ", n);
        },
        rows));
    for (const auto& row : rows) {
      // Ids stay far below 2^59 (AppendBatch packs the shard above them in one sort key).
      if (row.Int(0) <= 0 || row.Int(0) >= int64_t{1} << 59) return Internal("telemetry series id out of range");
      auto it = position.find(SeriesCacheKey(row.Text(1), row.Text(2), row.Text(3)));
      if (it != position.end()) ids[it->second] = row.Int(0);
    }
    return Status::Ok();
  };
  // Look first (the series mostly exist: one statement), then create the missing ones and look again.
  TL_RETURN_IF_ERROR(select(params));
  if (!create) return ids;
  std::vector<Value> missing;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (ids[i] == 0) missing.insert(missing.end(), params.begin() + 3 * i, params.begin() + 3 * i + 3);
  }
  if (missing.empty()) return ids;
  TL_RETURN_IF_ERROR(ExecSlices(s, missing, 3, [](size_t n) {
                       return "INSERT INTO telemetry_series (tenant, entity_id, attribute) VALUES " +
                              Repeat("(?, ?, ?)", ", ", n) + " ON CONFLICT (tenant, entity_id, attribute) DO NOTHING";
                     }).status());
  TL_RETURN_IF_ERROR(select(missing));
  return ids;
}

Result<std::vector<std::string>> TelemetryStore::ListAttributes(std::string_view tenant,
                                                                std::string_view entity_id) const {
  std::vector<std::string> out;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(ResultSet rs,
                        s.Query("SELECT attribute FROM telemetry_series WHERE tenant = ? AND entity_id = ? "
                                "ORDER BY attribute",
                                {std::string(tenant), std::string(entity_id)}));
    for (const auto& row : rs.rows) out.push_back(row.Text(0));
    return Status::Ok();
  }));
  return out;
}

// ---- Appending ---------------------------------------------------------------------------------------

Status TelemetryStore::AppendBatch(std::span<const Measurement> batch) {
  if (batch.empty()) return Status::Ok();
  std::vector<Value> rows;
  TL_RETURN_IF_ERROR(LogRowsOf(batch, nullptr, rows));
  TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status { return InsertLogRows(s, rows); }));
  // Durable from here on. Fold now and then so the log stays short; a failed fold loses nothing.
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t threshold = options_.fold_after_samples;
  if (threshold > 0 && appended_since_fold_.fetch_add(n) + n >= threshold) {
    std::unique_lock lock(maintenance_mu_, std::try_to_lock);
    if (lock.owns_lock()) {
      appended_since_fold_.store(0);
      if (!FoldLocked(std::numeric_limits<int64_t>::max()).ok()) failed_inline_folds_++;
    }
  }
  return Status::Ok();
}

Status TelemetryStore::AppendInSession(Session& session, std::span<const Measurement> batch) {
  if (batch.empty()) return Status::Ok();
  std::vector<Value> rows;
  TL_RETURN_IF_ERROR(LogRowsOf(batch, &session, rows));
  TL_RETURN_IF_ERROR(InsertLogRows(session, rows));
  // No inline fold: this runs inside the caller's transaction. The next AppendBatch or Maintain folds.
  appended_since_fold_.fetch_add(static_cast<int64_t>(batch.size()));
  return Status::Ok();
}

Status TelemetryStore::LogRowsOf(std::span<const Measurement> batch, Session* session, std::vector<Value>& rows) const {
  const size_t n = batch.size();
  if (n > std::numeric_limits<uint32_t>::max())
    return InvalidArgument("too many measurements in one batch", "measurements");
  for (size_t i = 0; i < n; ++i) {
    const Measurement& m = batch[i];
    if (m.t_ms < kMinTimeMs || m.t_ms >= kMaxTimeMs) {
      return InvalidArgument("time outside the years 1 to 9999", "measurements[" + std::to_string(i) + "].t");
    }
    if (!std::isfinite(m.v)) {
      return InvalidArgument("value is not a finite number", "measurements[" + std::to_string(i) + "].v");
    }
  }
  // Series ids: from the cache, else created (validating the keys once, on first sight).
  std::vector<int64_t> ids(n, 0);
  std::vector<size_t> missing;
  {
    std::string key;
    std::shared_lock lock(cache_mu_);
    for (size_t i = 0; i < n; ++i) {
      const Measurement& m = batch[i];
      key.clear();
      key.append(m.tenant).push_back(kKeySeparator);
      key.append(m.entity_id).push_back(kKeySeparator);
      key.append(m.attribute);
      auto it = cache_.find(std::string_view(key));
      if (it != cache_.end()) {
        ids[i] = it->second;
      } else {
        missing.push_back(i);
      }
    }
  }
  if (!missing.empty()) {
    std::unordered_map<std::string, size_t> distinct;
    std::vector<std::string> keys;
    std::vector<size_t> key_of(missing.size());
    for (size_t j = 0; j < missing.size(); ++j) {
      const Measurement& m = batch[missing[j]];
      std::string key = SeriesCacheKey(m.tenant, m.entity_id, m.attribute);
      auto [it, added] = distinct.emplace(key, keys.size());
      if (added) {
        TL_RETURN_IF_ERROR(CheckKeyPart(m.tenant, missing[j], "tenant", true));
        TL_RETURN_IF_ERROR(CheckKeyPart(m.entity_id, missing[j], "entity_id", false));
        TL_RETURN_IF_ERROR(CheckKeyPart(m.attribute, missing[j], "attribute", false));
        keys.push_back(std::move(key));
      }
      key_of[j] = it->second;
    }
    // In the caller's transaction the ids are cached only once it commits: a series created there
    // disappears if it rolls back, and its id could then be given to another series.
    std::vector<int64_t> resolved;
    if (session != nullptr) {
      TL_ASSIGN_OR_RETURN(resolved, SeriesIdsIn(*session, keys, true));
      session->AfterCommit([this, keys, resolved] {
        std::unique_lock lock(cache_mu_);
        for (size_t i = 0; i < keys.size(); ++i) {
          if (resolved[i] > 0) cache_.emplace(keys[i], resolved[i]);
        }
      });
    } else {
      TL_ASSIGN_OR_RETURN(resolved, ResolveSeries(keys, true));
    }
    for (size_t j = 0; j < missing.size(); ++j) {
      ids[missing[j]] = resolved[key_of[j]];
      if (ids[missing[j]] <= 0) return Internal("telemetry series could not be created");
    }
  }
  // Entries by shard, then series, then arrival: one 64-bit key (shard above the series id) per entry.
  std::vector<std::pair<uint64_t, uint32_t>> order(n);
  for (size_t i = 0; i < n; ++i) {
    order[i] = {static_cast<uint64_t>(LogShardOf(ids[i])) << 59 | static_cast<uint64_t>(ids[i]),
                static_cast<uint32_t>(i)};
  }
  std::sort(order.begin(), order.end());
  std::vector<LogEntry> entries(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t k = order[i].second;
    entries[i] = {ids[k], batch[k].t_ms, batch[k].v};
  }
  for (size_t begin = 0; begin < n;) {
    const int shard = LogShardOf(entries[begin].series_id);
    size_t end = begin;
    int64_t lo = entries[begin].t_ms, hi = lo;
    while (end < n && end - begin < kMaxSegmentEntries && LogShardOf(entries[end].series_id) == shard) {
      lo = std::min(lo, entries[end].t_ms);
      hi = std::max(hi, entries[end].t_ms);
      ++end;
    }
    std::span<const LogEntry> part(entries.data() + begin, end - begin);
    rows.insert(rows.end(), {int64_t{shard}, lo, hi, static_cast<int64_t>(part.size()), Blob{EncodeLogSegment(part)}});
    begin = end;
  }
  return Status::Ok();
}

Status TelemetryStore::InsertLogRows(Session& s, const std::vector<Value>& rows) {
  return ExecSlices(s, rows, 5,
                    [](size_t k) {
                      return "INSERT INTO telemetry_log (shard, min_ms, max_ms, count, data) VALUES " +
                             Repeat("(?, ?, ?, ?, ?)", ", ", k);
                    })
      .status();
}

// ---- Folding -----------------------------------------------------------------------------------------

Status TelemetryStore::EnsurePartitions(const std::set<int64_t>& months) {
  if (!postgres_ || months.empty()) return Status::Ok();
  std::vector<int64_t> missing;
  {
    std::lock_guard lock(partitions_mu_);
    for (int64_t m : months) {
      if (!known_months_.count(m)) missing.push_back(m);
    }
  }
  if (missing.empty()) return Status::Ok();
  Status st;
  for (int attempt = 0; attempt < 3; ++attempt) {
    st = db_->Write([&](Session& s) -> Status {
      for (int64_t m : missing) {
        TL_RETURN_IF_ERROR(s.ExecScript(
            "CREATE TABLE IF NOT EXISTS " + PartitionName(m) + " PARTITION OF telemetry_chunks FOR VALUES FROM (" +
            std::to_string(MonthStartMs(m)) + ") TO (" + std::to_string(MonthStartMs(m + 1)) + ")"));
      }
      return Status::Ok();
    });
    if (st.ok()) break;  // else another process made the same partition at the same moment: again
  }
  if (!st.ok()) return st;
  std::lock_guard lock(partitions_mu_);
  known_months_.insert(missing.begin(), missing.end());
  return Status::Ok();
}

struct TelemetryStore::LoadedHead {
  int64_t seq = 0;
  int64_t version = 0;
  int64_t folded_through = 0;  // the last log row whose samples of this series the head (or a chunk) holds
  std::string data;
};

Result<int64_t> TelemetryStore::Fold() {
  std::lock_guard lock(maintenance_mu_);
  appended_since_fold_.store(0);
  return StoredData(FoldLocked(std::numeric_limits<int64_t>::max()));
}

Result<int64_t> TelemetryStore::FoldLocked(int64_t max_log_id) {
  if (max_log_id == std::numeric_limits<int64_t>::max()) {
    // Fold what is there now, not what keeps arriving while folding.
    TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(ResultSet rs, s.Query("SELECT COALESCE(MAX(id), 0) FROM telemetry_log"));
      max_log_id = rs.rows[0].Int(0);
      return Status::Ok();
    }));
  }
  int64_t total = 0;
  for (bool more = true; more;) {
    TL_ASSIGN_OR_RETURN(int64_t folded, WithRetries([&] { return FoldSome(max_log_id, more); }));
    total += folded;
    if (folded == 0) break;
  }
  return total;
}

Result<int64_t> TelemetryStore::FoldSome(int64_t max_log_id, bool& more) {
  more = false;
  // Load: log rows in order, and the heads of their series.
  std::vector<int64_t> log_ids;
  std::vector<LogEntry> entries;
  std::vector<int64_t> entry_log_ids;  // the log row of each entry
  std::unordered_map<int64_t, LoadedHead> heads;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    // The oldest rows up to about kMaxFoldSamples entries, then their data.
    TL_ASSIGN_OR_RETURN(ResultSet sizes,
                        s.Query("SELECT id, count FROM telemetry_log WHERE id <= ? ORDER BY id LIMIT ?",
                                {max_log_id, kMaxLogRowsPerFold + 1}));
    if (sizes.empty()) return Status::Ok();
    size_t take = 0;
    int64_t samples = 0;
    while (take < sizes.rows.size() && take < static_cast<size_t>(kMaxLogRowsPerFold) &&
           samples < static_cast<int64_t>(kMaxFoldSamples)) {
      samples += sizes.rows[take++].Int(1);
    }
    more = take < sizes.rows.size();
    TL_ASSIGN_OR_RETURN(ResultSet rs,
                        s.Query(WithBlobs(postgres_,
                                          "SELECT id, {{data}} FROM telemetry_log WHERE id >= ? AND id <= ? "
                                          "ORDER BY id"),
                                {sizes.rows.front().Int(0), sizes.rows[take - 1].Int(0)}));
    for (const auto& row : rs.rows) {
      log_ids.push_back(row.Int(0));
      TL_ASSIGN_OR_RETURN(std::string segment, BlobAt(postgres_, row, 1));
      TL_RETURN_IF_ERROR(DecodeLogSegment(segment, entries));
      entry_log_ids.resize(entries.size(), row.Int(0));
    }
    if (log_ids.empty()) return Status::Ok();
    std::vector<int64_t> series;
    {
      std::unordered_set<int64_t> seen;
      for (const LogEntry& e : entries) {
        if (seen.insert(e.series_id).second) series.push_back(e.series_id);
      }
    }
    std::vector<Value> params(series.begin(), series.end());
    std::vector<storage::Row> rows;
    TL_RETURN_IF_ERROR(QuerySlices(
        s, params, 1,
        [&](size_t n) {
          return WithBlobs(postgres_,
                           "SELECT series_id, seq, version, folded_through, {{data}} FROM telemetry_heads WHERE "
                           "series_id IN (" +
                               Repeat("?", ", ", n) + ")");
        },
        rows));
    for (auto& row : rows) {
      TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 4));
      heads[row.Int(0)] = {row.Int(1), row.Int(2), row.Int(3), std::move(data)};
    }
    return Status::Ok();
  }));
  if (log_ids.empty()) return int64_t{0};

  // Compute: per series, its new samples in time order (stable: arrival order for equal times),
  // leaving out those a head already holds (folded by an earlier pass of these rows that applied
  // some of its writes, then failed or was cut short).
  struct NewSamples {
    std::vector<Sample> samples;
    int64_t held_through = 0;  // the head's folded_through (0: no head)
    int64_t through = 0;       // the last of these log rows holding the series
  };
  std::unordered_map<int64_t, NewSamples> by_series;
  std::vector<int64_t> series_order;
  for (size_t i = 0; i < entries.size(); ++i) {
    const LogEntry& e = entries[i];
    auto [it, added] = by_series.try_emplace(e.series_id);
    NewSamples& n = it->second;
    if (added) {
      series_order.push_back(e.series_id);
      if (auto h = heads.find(e.series_id); h != heads.end()) n.held_through = h->second.folded_through;
    }
    n.through = std::max(n.through, entry_log_ids[i]);
    if (entry_log_ids[i] > n.held_through) n.samples.push_back({e.t_ms, e.v});
  }
  std::sort(series_order.begin(), series_order.end());
  const int64_t fold_id = *std::max_element(log_ids.begin(), log_ids.end());
  int64_t counter = 0;
  auto new_seq = [&] { return fold_id << kSeqShift | counter++; };

  // The writes, in parts of at most kMaxHeadsPerFoldWrite series each: one transaction of 10,000
  // heads held the single SQLite writer for ~70 ms, and every measurement arriving meanwhile with it.
  // Each part updates its heads (at the version read) with the log rows they now hold; the last part
  // also deletes the rows. A part that failed or never ran is redone from the rows by the next pass.
  struct Part {
    std::vector<ChunkRow> chunks;
    std::vector<Value> changed_heads;  // (series_id, version read, seq, first_ms, last_ms, count, through, data)
    std::vector<Value> new_heads;      // (series_id, seq, version, first_ms, last_ms, count, through, data)
    size_t series = 0;
  };
  std::vector<Part> parts(1);
  std::set<int64_t> months;
  std::vector<Sample> current;
  for (int64_t series_id : series_order) {
    auto& [samples, held_through, folded_through] = by_series[series_id];
    if (samples.empty()) continue;  // all held already
    if (parts.back().series >= kMaxHeadsPerFoldWrite) parts.emplace_back();
    Part& part = parts.back();
    part.series++;
    std::stable_sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
    current.clear();
    int64_t head_seq = 0;
    const LoadedHead* head = nullptr;
    if (auto it = heads.find(series_id); it != heads.end()) {
      head = &it->second;
      TL_RETURN_IF_ERROR(DecodeChunkInto(head->data, current));
      head_seq = head->seq;
    }
    // Late samples (before the head's last time) become chunks of their own.
    auto in_order = samples.begin();
    if (!current.empty()) {
      in_order = std::lower_bound(samples.begin(), samples.end(), current.back().t_ms,
                                  [](const Sample& s, int64_t t) { return s.t_ms < t; });
    }
    Status st;
    CutSorted(std::span<const Sample>(samples.data(), static_cast<size_t>(in_order - samples.begin())),
              options_.chunk_samples, [&](std::span<const Sample> late) {
                if (!st.ok()) return;
                auto data = EncodeChunk(late);
                if (!data.ok()) {
                  st = data.status();
                  return;
                }
                auto row = MakeChunkRow(series_id, new_seq(), std::move(*data));
                if (!row.ok()) {
                  st = row.status();
                  return;
                }
                part.chunks.push_back(std::move(*row));
              });
    TL_RETURN_IF_ERROR(st);
    if (in_order == samples.end() && head != nullptr) {
      // Only late samples: the head keeps its samples but records the rows it now accounts for.
      part.changed_heads.insert(part.changed_heads.end(),
                                {series_id, head->version, head->seq, current.front().t_ms, current.back().t_ms,
                                 static_cast<int64_t>(current.size()), folded_through, Blob{head->data}});
      continue;
    }
    if (head == nullptr) head_seq = new_seq();
    for (auto it = in_order; it != samples.end(); ++it) {
      if (!current.empty() &&
          (current.size() >= options_.chunk_samples || it->t_ms - current.front().t_ms > kChunkSpanMs)) {
        TL_ASSIGN_OR_RETURN(std::string data, EncodeChunk(current));
        TL_ASSIGN_OR_RETURN(ChunkRow row, MakeChunkRow(series_id, head_seq, std::move(data)));
        part.chunks.push_back(std::move(row));
        current.clear();
        head_seq = new_seq();
      }
      current.push_back(*it);
    }
    TL_ASSIGN_OR_RETURN(std::string data, EncodeChunk(current));
    if (head != nullptr) {
      part.changed_heads.insert(part.changed_heads.end(),
                                {series_id, head->version, head_seq, current.front().t_ms, current.back().t_ms,
                                 static_cast<int64_t>(current.size()), folded_through, Blob{std::move(data)}});
    } else {
      part.new_heads.insert(part.new_heads.end(),
                            {series_id, head_seq, int64_t{1}, current.front().t_ms, current.back().t_ms,
                             static_cast<int64_t>(current.size()), folded_through, Blob{std::move(data)}});
    }
  }
  for (const Part& part : parts) {
    for (const ChunkRow& c : part.chunks) months.insert(MonthOf(c.summary.first_ms));
  }
  TL_RETURN_IF_ERROR(EnsurePartitions(months));

  // Apply, checking that nothing we read has changed.
  std::vector<Value> log_params(log_ids.begin(), log_ids.end());
  auto apply = [&](Session& s, const Part& part, bool last) -> Status {
    if (!part.changed_heads.empty()) {
      // In place (on PostgreSQL mostly heap-only updates into the pages' free space, so the heads
      // do not bloat between vacuums), and only at the version read.
      const std::string row = TypedValuesRow(postgres_, 7);
      TL_ASSIGN_OR_RETURN(int64_t updated, ExecSlices(s, part.changed_heads, 8, [&](size_t n) {
                            return "UPDATE telemetry_heads SET seq = v.column3, version = v.column2 + 1, "
                                   "first_ms = v.column4, last_ms = v.column5, count = v.column6, "
                                   "folded_through = v.column7, data = v.column8 FROM (VALUES " +
                                   Repeat(row, ", ", n) +
                                   ") AS v WHERE telemetry_heads.series_id = v.column1 AND "
                                   "telemetry_heads.version = v.column2";
                          }));
      if (static_cast<size_t>(updated) != part.changed_heads.size() / 8) return Changed();
    }
    if (!part.new_heads.empty()) {
      auto inserted = ExecSlices(s, part.new_heads, 8, [](size_t n) {
        return "INSERT INTO telemetry_heads (series_id, seq, version, first_ms, last_ms, count, folded_through, "
               "data) VALUES " +
               Repeat("(?, ?, ?, ?, ?, ?, ?, ?)", ", ", n);
      });
      TL_RETURN_IF_ERROR(AsConflict(inserted.status()));
    }
    TL_RETURN_IF_ERROR(InsertChunks(s, postgres_, part.chunks));
    if (!last) return Status::Ok();
    TL_ASSIGN_OR_RETURN(int64_t deleted, ExecSlices(s, log_params, 1, [](size_t n) {
                          return "DELETE FROM telemetry_log WHERE id IN (" + Repeat("?", ", ", n) + ")";
                        }));
    if (static_cast<size_t>(deleted) != log_ids.size()) return Changed();
    return Status::Ok();
  };
  Status st;
  for (size_t i = 0; i < parts.size() && st.ok(); ++i) {
    st = db_->Write([&](Session& s) -> Status { return apply(s, parts[i], i + 1 == parts.size()); });
  }
  if (!st.ok()) {
    if (postgres_ && st.code() == StatusCode::kInvalidArgument) {
      // A month partition this process thought existed was dropped by another one: make it again.
      std::lock_guard lock(partitions_mu_);
      known_months_.clear();
      return Conflict("telemetry fold: " + st.message());
    }
    return st;
  }
  return static_cast<int64_t>(entries.size());
}

// ---- Maintenance -------------------------------------------------------------------------------------

Result<int64_t> TelemetryStore::SealOldHeads(int64_t now_ms, bool& more) {
  more = false;
  const int64_t before = SubSat(now_ms, std::min(kChunkSpanMs, options_.retention.raw_ms));
  std::vector<ChunkRow> chunks;
  std::vector<Value> old_heads;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(ResultSet rs, s.Query(WithBlobs(postgres_,
                                                        "SELECT series_id, seq, version, {{data}} FROM "
                                                        "telemetry_heads WHERE first_ms < ? ORDER BY first_ms "
                                                        "LIMIT ?"),
                                              {before, kStepLimit}));
    more = rs.rows.size() == static_cast<size_t>(kStepLimit);
    for (const auto& row : rs.rows) {
      TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 3));
      TL_ASSIGN_OR_RETURN(ChunkRow c, MakeChunkRow(row.Int(0), row.Int(1), std::move(data)));
      chunks.push_back(std::move(c));
      old_heads.insert(old_heads.end(), {row.Int(0), row.Int(2)});
    }
    return Status::Ok();
  }));
  if (chunks.empty()) return int64_t{0};
  std::set<int64_t> months;
  for (const ChunkRow& c : chunks) months.insert(MonthOf(c.summary.first_ms));
  TL_RETURN_IF_ERROR(EnsurePartitions(months));
  TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status {
    TL_RETURN_IF_ERROR(DeleteExactly(s, "telemetry_heads", "(series_id = ? AND version = ?)", 2, old_heads));
    return InsertChunks(s, postgres_, chunks);
  }));
  return static_cast<int64_t>(chunks.size());
}

Result<int64_t> TelemetryStore::RollUpSome(bool& more) {
  more = false;
  std::vector<Value> keys;  // (series_id, first_ms, seq) of the chunks rolled up
  std::map<RollupKey, std::vector<RollupRecord>> added;
  std::map<RollupKey, RollupRow> existing;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    // CROSS JOIN: SQLite then keeps the pending rows as the outer loop.
    TL_ASSIGN_OR_RETURN(ResultSet rs, s.Query(WithBlobs(postgres_,
                                                        "SELECT p.series_id, p.first_ms, p.seq, {{c.data}} FROM "
                                                        "telemetry_pending p CROSS JOIN telemetry_chunks c WHERE "
                                                        "c.series_id = p.series_id AND c.first_ms = p.first_ms AND "
                                                        "c.seq = p.seq ORDER BY p.series_id, p.first_ms LIMIT ?"),
                                              {kStepLimit}));
    more = rs.rows.size() == static_cast<size_t>(kStepLimit);
    for (const auto& row : rs.rows) {
      keys.insert(keys.end(), {row.Int(0), row.Int(1), row.Int(2)});
      TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 3));
      TL_RETURN_IF_ERROR(AddChunkRollups(row.Int(0), data, kMillisPerHour, kHourBucketMs, kMinTimeMs, added));
    }
    std::vector<RollupKey> wanted;
    for (const auto& [key, records] : added) wanted.push_back(key);
    return LoadRollupRows(s, postgres_, "telemetry_hours", kMillisPerHour, wanted, existing);
  }));
  if (keys.empty()) return int64_t{0};
  TL_ASSIGN_OR_RETURN(std::vector<RollupWrite> writes, MergeRollups(added, existing, kMillisPerHour));
  TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status {
    TL_RETURN_IF_ERROR(DeleteExactly(s, "telemetry_pending", "(series_id = ? AND first_ms = ? AND seq = ?)", 3, keys));
    return WriteRollups(s, postgres_, "telemetry_hours", writes);
  }));
  return static_cast<int64_t>(keys.size() / 3);
}

Result<int64_t> TelemetryStore::ExpireSome(int64_t now_ms, bool& more) {
  more = false;
  const int64_t horizon = options_.retention.RetainedSince(Tier::kRaw, now_ms);
  const int64_t minute_horizon = options_.retention.RetainedSince(Tier::kMinute, now_ms);
  if (horizon <= kMinTimeMs) return int64_t{0};
  std::vector<Value> keys;
  std::map<RollupKey, std::vector<RollupRecord>> added;
  std::map<RollupKey, RollupRow> existing;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    // Chunks still waiting for the 1-hour rollup stay (Maintain rolls up before it expires).
    TL_ASSIGN_OR_RETURN(ResultSet rs,
                        s.Query(WithBlobs(postgres_,
                                          "SELECT c.series_id, c.first_ms, c.seq, {{c.data}} FROM "
                                          "telemetry_chunks c WHERE c.first_ms < ? AND c.last_ms < ? AND NOT "
                                          "EXISTS (SELECT 1 FROM telemetry_pending p WHERE p.series_id = "
                                          "c.series_id AND p.first_ms = c.first_ms AND p.seq = c.seq) "
                                          "ORDER BY c.first_ms LIMIT ?"),
                                {horizon, horizon, kStepLimit}));
    more = rs.rows.size() == static_cast<size_t>(kStepLimit);
    for (const auto& row : rs.rows) {
      keys.insert(keys.end(), {row.Int(0), row.Int(1), row.Int(2)});
      TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 3));
      TL_RETURN_IF_ERROR(AddChunkRollups(row.Int(0), data, kMillisPerMinute, kMinuteBucketMs, minute_horizon, added));
    }
    std::vector<RollupKey> wanted;
    for (const auto& [key, records] : added) wanted.push_back(key);
    return LoadRollupRows(s, postgres_, "telemetry_minutes", kMillisPerMinute, wanted, existing);
  }));
  if (keys.empty()) return int64_t{0};
  TL_ASSIGN_OR_RETURN(std::vector<RollupWrite> writes, MergeRollups(added, existing, kMillisPerMinute));
  TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status {
    TL_RETURN_IF_ERROR(DeleteExactly(s, "telemetry_chunks", "(series_id = ? AND first_ms = ? AND seq = ?)", 3, keys));
    return WriteRollups(s, postgres_, "telemetry_minutes", writes);
  }));
  return static_cast<int64_t>(keys.size() / 3);
}

Status TelemetryStore::ExpireRollups(int64_t now_ms, MaintenanceReport& report) {
  const RetentionPolicy& r = options_.retention;
  TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status {
    const int64_t minutes = r.RetainedSince(Tier::kMinute, now_ms);
    const int64_t hours = r.RetainedSince(Tier::kHour, now_ms);
    // A row goes once its whole bucket is past retention.
    if (minutes > kMinTimeMs) {
      TL_ASSIGN_OR_RETURN(report.expired_minute_rows,
                          s.Exec("DELETE FROM telemetry_minutes WHERE bucket_ms <= ?", {minutes - kMinuteBucketMs}));
    }
    if (hours > kMinTimeMs) {
      TL_ASSIGN_OR_RETURN(report.expired_hour_rows,
                          s.Exec("DELETE FROM telemetry_hours WHERE bucket_ms <= ?", {hours - kHourBucketMs}));
    }
    return Status::Ok();
  }));
  if (!postgres_) return Status::Ok();
  // Month partitions wholly before the raw retention, once emptied, are dropped.
  const int64_t horizon = r.RetainedSince(Tier::kRaw, now_ms);
  std::vector<std::pair<int64_t, std::string>> old;
  TL_RETURN_IF_ERROR(db_->Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(ResultSet rs,
                        s.Query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                "WHERE i.inhparent = to_regclass('telemetry_chunks')"));
    for (const auto& row : rs.rows) {
      auto month = PartitionMonth(row.Text(0));
      if (month && MonthStartMs(*month + 1) <= horizon) old.emplace_back(*month, row.Text(0));
    }
    return Status::Ok();
  }));
  for (const auto& [month, name] : old) {
    bool dropped = false;
    TL_RETURN_IF_ERROR(db_->Write([&](Session& s) -> Status {
      // Lock out inserts first, so no chunk arrives between the check and the drop.
      TL_RETURN_IF_ERROR(s.ExecScript("LOCK TABLE telemetry_chunks IN ACCESS EXCLUSIVE MODE"));
      TL_ASSIGN_OR_RETURN(ResultSet rs, s.Query("SELECT 1 FROM " + name + " LIMIT 1"));
      if (!rs.empty()) return Status::Ok();
      TL_RETURN_IF_ERROR(s.ExecScript("DROP TABLE " + name));
      dropped = true;
      return Status::Ok();
    }));
    if (dropped) {
      report.dropped_partitions++;
      std::lock_guard lock(partitions_mu_);
      known_months_.erase(month);
    }
  }
  return Status::Ok();
}

Result<MaintenanceReport> TelemetryStore::Maintain(int64_t now_ms) {
  if (now_ms < kMinTimeMs || now_ms >= kMaxTimeMs) return InvalidArgument("now out of range", "now");
  return StoredData([&]() -> Result<MaintenanceReport> {
    std::lock_guard lock(maintenance_mu_);
    appended_since_fold_.store(0);
    MaintenanceReport report;
    if (postgres_) TL_RETURN_IF_ERROR(EnsurePartitions({MonthOf(now_ms), MonthOf(now_ms) + 1}));
    TL_ASSIGN_OR_RETURN(report.folded_samples, FoldLocked(std::numeric_limits<int64_t>::max()));
    auto run = [](int64_t& total, const std::function<Result<int64_t>(bool&)>& step) -> Status {
      for (bool more = true; more;) {
        TL_ASSIGN_OR_RETURN(int64_t done, WithRetries([&] { return step(more); }));
        total += done;
        if (done == 0) break;
      }
      return Status::Ok();
    };
    TL_RETURN_IF_ERROR(run(report.sealed_heads, [&](bool& more) { return SealOldHeads(now_ms, more); }));
    TL_RETURN_IF_ERROR(run(report.rolled_chunks, [&](bool& more) { return RollUpSome(more); }));
    TL_RETURN_IF_ERROR(run(report.expired_chunks, [&](bool& more) { return ExpireSome(now_ms, more); }));
    TL_RETURN_IF_ERROR(ExpireRollups(now_ms, report));
    return report;
  }());
}

void TelemetryStore::StartMaintenance(const Clock* clock, std::chrono::milliseconds interval,
                                      std::function<void(const Status&)> on_error) {
  // In the background: a fold reads, decodes and re-encodes the open head of every series written
  // since the last one (10,000 sensors: about a quarter of a second of a core), and on a busy machine
  // that burst, shared evenly with the request threads, held up every measurement behind it.
  maintainer_.Start(
      interval,
      [this, clock, on_error = std::move(on_error)] {
        auto report = Maintain(clock->NowMillis());
        if (!report.ok() && on_error) on_error(report.status());
      },
      /*background=*/true, "tl-telemetry");
}

// ---- Reading -----------------------------------------------------------------------------------------

Result<std::vector<Sample>> TelemetryStore::ReadRaw(const SeriesKey& key, int64_t from_ms, int64_t to_ms,
                                                    std::optional<uint32_t> last_n) const {
  if (from_ms >= to_ms) return InvalidArgument("the interval must not be empty", "timeAt");
  return StoredData([&]() -> Result<std::vector<Sample>> {
    int64_t id = 0;
    {
      std::string k = SeriesCacheKey(key.tenant, key.entity_id, key.attribute);
      {
        std::shared_lock lock(cache_mu_);
        if (auto it = cache_.find(std::string_view(k)); it != cache_.end()) id = it->second;
      }
      if (id == 0) {
        TL_ASSIGN_OR_RETURN(std::vector<int64_t> ids, ResolveSeries({k}, false));
        id = ids[0];
      }
    }
    std::vector<Sample> out;
    if (id == 0) return out;
    std::vector<std::string> blobs;  // chunks, then the head
    std::vector<std::string> segments;
    TL_RETURN_IF_ERROR(ReadSnapshot([&](Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(ResultSet chunks,
                          s.Query(WithBlobs(postgres_,
                                            "SELECT {{data}} FROM telemetry_chunks WHERE series_id = ? AND "
                                            "first_ms >= ? AND first_ms < ? AND last_ms >= ? "
                                            "ORDER BY first_ms, seq"),
                                  {id, SubSat(from_ms, kChunkSpanMs), to_ms, from_ms}));
      TL_ASSIGN_OR_RETURN(ResultSet head, s.Query(WithBlobs(postgres_,
                                                            "SELECT {{data}} FROM telemetry_heads WHERE "
                                                            "series_id = ? AND first_ms < ? AND last_ms >= ?"),
                                                  {id, to_ms, from_ms}));
      TL_ASSIGN_OR_RETURN(ResultSet log, s.Query(WithBlobs(postgres_,
                                                           "SELECT {{data}} FROM telemetry_log WHERE shard = ? "
                                                           "AND max_ms >= ? AND min_ms < ? ORDER BY id"),
                                                 {int64_t{LogShardOf(id)}, from_ms, to_ms}));
      for (auto* rs : {&chunks, &head}) {
        for (const auto& row : rs->rows) {
          TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 0));
          blobs.push_back(std::move(data));
        }
      }
      for (const auto& row : log.rows) {
        TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 0));
        segments.push_back(std::move(data));
      }
      return Status::Ok();
    }));
    for (const std::string& blob : blobs) {
      TL_ASSIGN_OR_RETURN(ChunkReader reader, ChunkReader::Open(blob));
      Sample x;
      while (reader.Next(x)) {
        if (x.t_ms >= from_ms && x.t_ms < to_ms) out.push_back(x);
      }
      TL_RETURN_IF_ERROR(reader.status());
    }
    std::vector<LogEntry> entries;
    for (const std::string& segment : segments) {
      entries.clear();
      TL_RETURN_IF_ERROR(DecodeLogSegment(segment, entries));
      for (const LogEntry& e : entries) {
        if (e.series_id == id && e.t_ms >= from_ms && e.t_ms < to_ms) out.push_back({e.t_ms, e.v});
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
    if (last_n && out.size() > *last_n) out.erase(out.begin(), out.end() - *last_n);
    return out;
  }());
}

Status TelemetryStore::AggregatePart(const PeriodGrid& grid, Tier tier, std::span<const storage::Value> ids,
                                     size_t first_slot, const std::unordered_map<int64_t, size_t>& slot,
                                     std::vector<Aggregator>& aggregators, PartCounts& counts) const {
  std::set<int> shards;
  for (const Value& id : ids) shards.insert(LogShardOf(std::get<int64_t>(id)));
  const int64_t start = grid.start_ms();
  const int64_t end = grid.end_ms();
  const std::string in_ids = "series_id IN (";
  std::vector<RollupRecord> records;
  std::vector<LogEntry> entries;
  auto add_chunks = [&](const std::vector<storage::Row>& rows) -> Status {
    for (const auto& row : rows) {
      auto it = slot.find(row.Int(0));
      if (it == slot.end()) continue;
      TL_ASSIGN_OR_RETURN(std::string data, BlobAt(postgres_, row, 1));
      TL_RETURN_IF_ERROR(aggregators[it->second].AddChunk(data));
    }
    return Status::Ok();
  };
  return ReadSnapshot([&](Session& s) -> Status {
    if (tier != Tier::kRaw) {
      const bool hours = tier == Tier::kHour;
      const std::string table = hours ? "telemetry_hours" : "telemetry_minutes";
      const int64_t bucket_len = hours ? kHourBucketMs : kMinuteBucketMs;
      const int64_t granularity = hours ? kMillisPerHour : kMillisPerMinute;
      // The bucket bounds go at the end of each slice's parameters.
      for (size_t r = 0; r < ids.size(); r += kRowsPerStatement) {
        size_t n = std::min(kRowsPerStatement, ids.size() - r);
        std::vector<Value> slice(ids.begin() + static_cast<ptrdiff_t>(r), ids.begin() + static_cast<ptrdiff_t>(r + n));
        slice.insert(slice.end(), {SubSat(start, bucket_len), end});
        TL_ASSIGN_OR_RETURN(
            ResultSet rs,
            s.QueryV(WithBlobs(postgres_, "SELECT series_id, bucket_ms, {{data}} FROM " + table + " WHERE " + in_ids +
                                              Repeat("?", ", ", n) + ") AND bucket_ms > ? AND bucket_ms < ?"),
                     slice));
        for (const auto& row : rs.rows) {
          auto it = slot.find(row.Int(0));
          if (it == slot.end()) continue;
          records.clear();
          TL_ASSIGN_OR_RETURN(std::string block, BlobAt(postgres_, row, 2));
          TL_RETURN_IF_ERROR(DecodeRollupBlock(block, row.Int(1), granularity, records));
          counts.rollup_records += records.size();
          for (const RollupRecord& rec : records) TL_RETURN_IF_ERROR(aggregators[it->second].AddRollup(rec));
        }
      }
    }
    // Chunks: with 1-hour records only those not rolled up yet (found through telemetry_pending; the
    // CROSS JOIN keeps SQLite from walking every chunk of the series instead), otherwise every one
    // still kept.
    const bool pending_only = tier == Tier::kHour;
    const std::string chunks_sql =
        WithBlobs(postgres_, pending_only ? "SELECT c.series_id, {{c.data}} FROM telemetry_pending p CROSS JOIN "
                                            "telemetry_chunks c WHERE c.series_id = p.series_id AND c.first_ms = "
                                            "p.first_ms AND c.seq = p.seq AND p.series_id IN ("
                                          : "SELECT c.series_id, {{c.data}} FROM telemetry_chunks c WHERE "
                                            "c.series_id IN (");
    const std::string chunks_range = pending_only ? ") AND p.first_ms >= ? AND p.first_ms < ? AND c.last_ms >= ?"
                                                  : ") AND c.first_ms >= ? AND c.first_ms < ? AND c.last_ms >= ?";
    for (size_t r = 0; r < ids.size(); r += kRowsPerStatement) {
      size_t n = std::min(kRowsPerStatement, ids.size() - r);
      std::vector<Value> slice(ids.begin() + static_cast<ptrdiff_t>(r), ids.begin() + static_cast<ptrdiff_t>(r + n));
      slice.insert(slice.end(), {SubSat(start, kChunkSpanMs), end, start});
      TL_ASSIGN_OR_RETURN(ResultSet rs, s.QueryV(chunks_sql + Repeat("?", ", ", n) + chunks_range, slice));
      TL_RETURN_IF_ERROR(add_chunks(rs.rows));
      slice.resize(n);
      slice.insert(slice.end(), {end, start});
      TL_ASSIGN_OR_RETURN(
          ResultSet heads,
          s.QueryV(WithBlobs(postgres_, "SELECT series_id, {{data}} FROM telemetry_heads WHERE " + in_ids +
                                            Repeat("?", ", ", n) + ") AND first_ms < ? AND last_ms >= ?"),
                   slice));
      TL_RETURN_IF_ERROR(add_chunks(heads.rows));
    }
    std::vector<Value> log_params(shards.begin(), shards.end());
    log_params.insert(log_params.end(), {start, end});
    TL_ASSIGN_OR_RETURN(ResultSet log,
                        s.QueryV(WithBlobs(postgres_, "SELECT {{data}} FROM telemetry_log WHERE shard IN (" +
                                                          Repeat("?", ", ", shards.size()) +
                                                          ") AND max_ms >= ? AND min_ms < ? ORDER BY id"),
                                 log_params));
    for (const auto& row : log.rows) {
      entries.clear();
      TL_ASSIGN_OR_RETURN(std::string segment, BlobAt(postgres_, row, 0));
      TL_RETURN_IF_ERROR(DecodeLogSegment(segment, entries));
      for (const LogEntry& e : entries) {
        // The log holds every series of its shards: only this part's take their samples.
        auto it = slot.find(e.series_id);
        if (it == slot.end() || it->second - first_slot >= ids.size()) continue;
        aggregators[it->second].Add(e.t_ms, e.v);
        counts.log_samples++;
      }
    }
    return Status::Ok();
  });
}

Result<AggregationResult> TelemetryStore::AggregateSeries(std::span<const SeriesKey> series,
                                                          const AggregationQuery& query) const {
  TL_ASSIGN_OR_RETURN(PeriodGrid grid,
                      PeriodGrid::Make(query.start_ms, query.end_ms, query.period, query.utc_offset_minutes));
  return StoredData([&]() -> Result<AggregationResult> {
    AggregationResult result;
    result.tier = CoarsestTierFor(grid);
    result.series.resize(series.size());
    // Series ids, from the cache or the database (unknown series have no periods).
    std::vector<int64_t> ids(series.size(), 0);
    std::vector<std::string> unknown;
    std::vector<size_t> unknown_at;
    {
      std::shared_lock lock(cache_mu_);
      for (size_t i = 0; i < series.size(); ++i) {
        std::string k = SeriesCacheKey(series[i].tenant, series[i].entity_id, series[i].attribute);
        if (auto it = cache_.find(std::string_view(k)); it != cache_.end()) {
          ids[i] = it->second;
        } else {
          unknown.push_back(std::move(k));
          unknown_at.push_back(i);
        }
      }
    }
    if (!unknown.empty()) {
      TL_ASSIGN_OR_RETURN(std::vector<int64_t> found, ResolveSeries(unknown, false));
      for (size_t j = 0; j < found.size(); ++j) ids[unknown_at[j]] = found[j];
    }
    std::unordered_map<int64_t, size_t> slot;  // series id → aggregator
    std::vector<Aggregator> aggregators;
    std::vector<Value> id_params;
    for (int64_t id : ids) {
      if (id == 0 || slot.count(id)) continue;
      slot.emplace(id, aggregators.size());
      aggregators.emplace_back(grid);
      id_params.push_back(id);
    }
    if (aggregators.empty()) return result;

    // Large requests are read in two halves on two threads, each from its own snapshot (so each
    // series is still read from one), which about halves the time on two cores.
    const size_t parts = id_params.size() >= kParallelSeries && std::thread::hardware_concurrency() > 1 ? 2 : 1;
    std::vector<PartCounts> counts(parts);
    std::vector<Status> statuses(parts);
    auto run = [&](size_t p) {
      const size_t from = id_params.size() * p / parts, to = id_params.size() * (p + 1) / parts;
      statuses[p] = AggregatePart(grid, result.tier, std::span<const Value>(id_params).subspan(from, to - from), from,
                                  slot, aggregators, counts[p]);
    };
    if (parts == 1) {
      run(0);
    } else {
      std::thread other(run, 1);
      run(0);
      other.join();
    }
    for (size_t p = 0; p < parts; ++p) {
      TL_RETURN_IF_ERROR(statuses[p]);
      result.rollup_records += counts[p].rollup_records;
      result.log_samples += counts[p].log_samples;
    }
    for (Aggregator& a : aggregators) {
      result.chunks_summarized += a.chunks_summarized();
      result.chunks_decoded += a.chunks_decoded();
    }
    // Each slot's periods go to the first request for that series; a repeated series gets a copy.
    std::vector<size_t> first_request(aggregators.size(), series.size());
    for (size_t i = 0; i < series.size(); ++i) {
      if (ids[i] == 0) continue;
      size_t k = slot[ids[i]];
      if (first_request[k] == series.size()) {
        first_request[k] = i;
        result.series[i] = aggregators[k].Take();
      } else {
        result.series[i] = result.series[first_request[k]];
      }
    }
    return result;
  }());
}

}  // namespace tl::telemetry
