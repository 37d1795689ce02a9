#include "modules/population/population.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <istream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/civil_date.h"
#include "core/crypto.h"
#include "core/json_writer.h"
#include "core/personal_id.h"
#include "core/text.h"
#include "http/json_body.h"

namespace tl::population {
namespace {

using nlohmann::json;

constexpr char kPeopleColumns[] =
    "personal_id, full_name, birth_date, sex, birth_place, permanent_unit, permanent_address, temporary_unit, "
    "temporary_address, household_id, household_role, father_id, mother_id, spouse_id, status, died_on";
constexpr int kPeopleColumnCount = 16;
constexpr char kInsertPerson[] =
    "INSERT INTO people (personal_id, full_name, birth_date, sex, birth_place, permanent_unit, permanent_address, "
    "temporary_unit, temporary_address, household_id, household_role, father_id, mother_id, spouse_id, status, "
    "died_on, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
    "ON CONFLICT (personal_id) DO NOTHING";
constexpr char kCreateStaging[] =
    "CREATE TABLE people_staging (personal_id BIGINT, full_name TEXT, birth_date TEXT, sex TEXT, birth_place TEXT, "
    "permanent_unit TEXT, permanent_address TEXT, temporary_unit TEXT, temporary_address TEXT, household_id BIGINT, "
    "household_role TEXT, father_id BIGINT, mother_id BIGINT, spouse_id BIGINT, status TEXT, died_on TEXT, "
    "updated_at BIGINT)";
constexpr char kInsertStaging[] =
    "INSERT INTO people_staging (personal_id, full_name, birth_date, sex, birth_place, permanent_unit, "
    "permanent_address, temporary_unit, temporary_address, household_id, household_role, father_id, mother_id, "
    "spouse_id, status, died_on, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr size_t kBatch = 20000;
// Secondary indexes, dropped and rebuilt around a load into an empty registry (migration 701 made
// the household's what it is). An official's look-up lists the person's household oldest first, and
// the household's index holds it in that order with the columns the list shows (a covering index):
// its members come from one stretch of the index instead of a random page of the table each, with no
// sort; on 10 million people a household read went from ~30 to ~12 µs. The children's lists are
// shorter, and indexes in birth order for them cost more at a load (~10 s of 10 million) than they
// saved per look-up (~2 µs).
constexpr const char* kIndexes[][2] = {
    {"people_household",
     "CREATE INDEX people_household ON people (household_id, birth_date, personal_id, full_name, sex, status, "
     "household_role)"},
    {"people_father", "CREATE INDEX people_father ON people (father_id)"},
    {"people_mother", "CREATE INDEX people_mother ON people (mother_id)"},
};

int CurrentYear(const Clock* clock) { return CivilDateFromDays(clock->NowMillis() / 86400000).year; }
std::string Today(const Clock* clock) { return FormatCivilDate(CivilDateFromDays(clock->NowMillis() / 86400000)); }

std::vector<storage::Value> Params(const Person& p, int64_t now) {
  auto opt_int = [](const std::optional<int64_t>& v) { return storage::OptInt(v); };
  return {p.personal_id,
          p.full_name,
          p.birth_date,
          std::string(SexName(p.sex)),
          p.birth_place,
          storage::OptText(p.permanent_unit),
          storage::OptText(p.permanent_address),
          storage::OptText(p.temporary_unit),
          storage::OptText(p.temporary_address),
          opt_int(p.household_id),
          storage::OptText(p.household_role),
          opt_int(p.father_id),
          opt_int(p.mother_id),
          opt_int(p.spouse_id),
          std::string(LifeStatusName(p.status)),
          storage::OptText(p.died_on),
          now};
}

std::optional<int64_t> OptInt(const storage::Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return r.Int(i);
}

Person FromRow(const storage::Row& r) {
  Person p;
  p.personal_id = r.Int(0);
  p.full_name = r.Text(1);
  p.birth_date = r.Text(2);
  p.sex = r.Text(3) == "female" ? Sex::kFemale : Sex::kMale;
  p.birth_place = r.Text(4);
  p.permanent_unit = r.OptText(5);
  p.permanent_address = r.OptText(6);
  p.temporary_unit = r.OptText(7);
  p.temporary_address = r.OptText(8);
  p.household_id = OptInt(r, 9);
  p.household_role = r.OptText(10);
  p.father_id = OptInt(r, 11);
  p.mother_id = OptInt(r, 12);
  p.spouse_id = OptInt(r, 13);
  p.status = r.Text(14) == "deceased" ? LifeStatus::kDeceased : LifeStatus::kLiving;
  p.died_on = r.OptText(15);
  return p;
}

json OptJson(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OptId(const std::optional<int64_t>& v) { return v ? json(FormatPersonalId(*v)) : json(nullptr); }

json Brief(const Person& p) {
  return json{{"personal_id", FormatPersonalId(p.personal_id)},
              {"full_name", p.full_name},
              {"birth_date", p.birth_date},
              {"sex", SexName(p.sex)},
              {"status", LifeStatusName(p.status)}};
}

Result<std::optional<int64_t>> OptionalId(const json& j, const char* key, int year) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_string()) return InvalidArgument("must be a 12-digit string", key);
  if (it->get_ref<const std::string&>().empty()) return std::optional<int64_t>();
  TL_ASSIGN_OR_RETURN(auto v, ParsePersonalId(it->get_ref<const std::string&>(), year, key));
  return std::optional<int64_t>(v);
}

Result<std::optional<std::string>> OptionalText(const json& j, const char* key, size_t max_chars) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument("must be a string", key);
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return std::optional<std::string>();
  if (!text::IsValidUtf8(s)) return InvalidArgument("is not valid UTF-8", key);
  if (text::CodePointCount(s) > static_cast<long>(max_chars)) {
    return InvalidArgument("is longer than " + std::to_string(max_chars) + " characters", key);
  }
  TL_ASSIGN_OR_RETURN(auto nfc, text::NormalizeNfc(s, key));
  return std::optional<std::string>(std::move(nfc));
}

const char* const kFields[] = {"personal_id",       "full_name",     "birth_date",     "sex",
                               "birth_place",       "permanent_unit", "permanent_address", "temporary_unit",
                               "temporary_address", "household_id",  "household_role", "father_id",
                               "mother_id",         "spouse_id",     "status",         "died_on"};

const char* const kOrganisationFields[] = {"tax_code", "name",      "representative_id", "representative_name",
                                           "address",  "unit_code", "status"};

template <size_t N>
bool Known(const char* const (&fields)[N], const std::string& name) {
  for (const char* f : fields) {
    if (name == f) return true;
  }
  return false;
}

// A row must be an object of known fields only.
template <size_t N>
Status CheckRow(const json& j, const char* const (&fields)[N]) {
  if (!j.is_object()) return InvalidArgument("each row must be a JSON object", "row");
  for (const auto& [k, v] : j.items()) {
    if (!Known(fields, k)) return InvalidArgument("unknown field", k);
    (void)v;
  }
  return Status::Ok();
}

Result<Person> ParseAndValidate(const json& j, int year, const std::string& today) {
  TL_RETURN_IF_ERROR(CheckRow(j, kFields));
  TL_ASSIGN_OR_RETURN(auto p, PersonFromJson(j));
  TL_RETURN_IF_ERROR(Validate(p, year, today));
  return p;
}

Result<Organisation> ParseAndValidateOrganisation(const json& j, int year) {
  TL_RETURN_IF_ERROR(CheckRow(j, kOrganisationFields));
  TL_ASSIGN_OR_RETURN(auto o, OrganisationFromJson(j));
  TL_RETURN_IF_ERROR(Validate(o, year));
  return o;
}

// The import's reader, shared by people and organisations: CSV (a header row naming known fields; a
// spreadsheet's byte-order mark is skipped) or NDJSON. Each non-blank row goes to `row` as a JSON
// object (CSV: its non-empty cells) with its 1-based line number; a row that cannot be read (not
// JSON, wrong number of columns, bad quoting) goes to `on_reject`. Returns the count of those, or
// the first error of the file itself (empty, unknown column) or of `row`, which stops the reading.
template <size_t N>
Result<int64_t> ForEachRow(std::istream& in, InputFormat format, const char* const (&fields)[N],
                           const std::function<Status(int64_t, json)>& row,
                           const std::function<void(const Rejection&)>& on_reject) {
  std::vector<std::string> header;
  int64_t line_no = 0;
  int64_t unreadable = 0;
  std::string line;
  if (format == InputFormat::kCsv) {
    if (!std::getline(in, line)) return InvalidArgument("the file is empty; expected a header row", "file");
    ++line_no;
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 byte-order mark from spreadsheets
    if (!line.empty() && line.back() == '\r') line.pop_back();
    TL_ASSIGN_OR_RETURN(header, text::SplitCsvLine(line));
    for (const auto& h : header) {
      if (!Known(fields, h)) return InvalidArgument("unknown column '" + h + "' in the header", "header");
    }
  }
  while (std::getline(in, line)) {
    ++line_no;
    if (text::Trim(line).empty()) continue;
    json j;
    if (format == InputFormat::kNdjson) {
      j = json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        ++unreadable;
        on_reject({line_no, "row", "not valid JSON"});
        continue;
      }
    } else {
      if (line.back() == '\r') line.pop_back();
      auto cells = text::SplitCsvLine(line);
      if (!cells.ok() || cells->size() != header.size()) {
        ++unreadable;
        on_reject({line_no, "row",
                   cells.ok() ? "expected " + std::to_string(header.size()) + " columns, found " +
                                    std::to_string(cells->size())
                              : cells.status().message()});
        continue;
      }
      j = json::object();
      for (size_t i = 0; i < header.size(); ++i) {
        if (!(*cells)[i].empty()) j[header[i]] = (*cells)[i];
      }
    }
    TL_RETURN_IF_ERROR(row(line_no, std::move(j)));
  }
  return unreadable;
}

}  // namespace

std::vector<storage::Migration> PopulationRegistry::Migrations() {
  std::string sql =
      "CREATE TABLE people (personal_id {{INT_KEY}}, full_name TEXT NOT NULL, birth_date TEXT NOT NULL, "
      "sex TEXT NOT NULL, birth_place TEXT NOT NULL, permanent_unit TEXT, permanent_address TEXT, "
      "temporary_unit TEXT, temporary_address TEXT, household_id BIGINT, household_role TEXT, father_id BIGINT, "
      "mother_id BIGINT, spouse_id BIGINT, status TEXT NOT NULL, died_on TEXT, version INTEGER NOT NULL, "
      "updated_at BIGINT NOT NULL);"
      "CREATE TABLE people_history (personal_id BIGINT NOT NULL, version INTEGER NOT NULL, at BIGINT NOT NULL, "
      "actor TEXT NOT NULL, source TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (personal_id, version));"
      "CREATE TABLE organisations (tax_code TEXT PRIMARY KEY, name TEXT NOT NULL, representative_id BIGINT, "
      "representative_name TEXT NOT NULL, address TEXT NOT NULL, unit_code TEXT, status TEXT NOT NULL, "
      "version INTEGER NOT NULL, updated_at BIGINT NOT NULL);";
  sql +=
      "CREATE INDEX people_household ON people (household_id);"
      "CREATE INDEX people_father ON people (father_id);"
      "CREATE INDEX people_mother ON people (mother_id);";
  return {{700, "population registry", sql},
          {701, "population registry: the household index in birth order, covering its list",
           std::string("DROP INDEX people_household;") + kIndexes[0][1] + ";"}};
}

json ToJson(const Person& p) {
  return json{{"personal_id", FormatPersonalId(p.personal_id)},
              {"full_name", p.full_name},
              {"birth_date", p.birth_date},
              {"sex", SexName(p.sex)},
              {"birth_place", p.birth_place},
              {"permanent_unit", OptJson(p.permanent_unit)},
              {"permanent_address", OptJson(p.permanent_address)},
              {"temporary_unit", OptJson(p.temporary_unit)},
              {"temporary_address", OptJson(p.temporary_address)},
              {"household_id", OptId(p.household_id)},
              {"household_role", OptJson(p.household_role)},
              {"father_id", OptId(p.father_id)},
              {"mother_id", OptId(p.mother_id)},
              {"spouse_id", OptId(p.spouse_id)},
              {"status", LifeStatusName(p.status)},
              {"died_on", OptJson(p.died_on)}};
}

Result<Person> PersonFromJson(const json& j) {
  // The year bound of the number is checked by Validate; here any plausible century parses.
  const int kYear = 2199;
  Person p;
  auto id = j.find("personal_id");
  if (id == j.end() || !id->is_string()) return InvalidArgument("is required: a 12-digit string", "personal_id");
  TL_ASSIGN_OR_RETURN(p.personal_id, ParsePersonalId(id->get_ref<const std::string&>(), kYear, "personal_id"));
  TL_ASSIGN_OR_RETURN(auto name, OptionalText(j, "full_name", 200));
  if (!name) return InvalidArgument("is required", "full_name");
  p.full_name = text::CleanText(*name);
  TL_ASSIGN_OR_RETURN(auto born, OptionalText(j, "birth_date", 10));
  if (!born) return InvalidArgument("is required (YYYY-MM-DD)", "birth_date");
  p.birth_date = *born;
  TL_ASSIGN_OR_RETURN(auto sex, OptionalText(j, "sex", 6));
  if (!sex || (*sex != "male" && *sex != "female")) return InvalidArgument("must be male or female", "sex");
  p.sex = *sex == "female" ? Sex::kFemale : Sex::kMale;
  TL_ASSIGN_OR_RETURN(auto place, OptionalText(j, "birth_place", 200));
  if (!place) return InvalidArgument("is required", "birth_place");
  p.birth_place = *place;
  TL_ASSIGN_OR_RETURN(p.permanent_unit, OptionalText(j, "permanent_unit", 10));
  TL_ASSIGN_OR_RETURN(p.permanent_address, OptionalText(j, "permanent_address", 300));
  TL_ASSIGN_OR_RETURN(p.temporary_unit, OptionalText(j, "temporary_unit", 10));
  TL_ASSIGN_OR_RETURN(p.temporary_address, OptionalText(j, "temporary_address", 300));
  TL_ASSIGN_OR_RETURN(p.household_id, OptionalId(j, "household_id", kYear));
  TL_ASSIGN_OR_RETURN(p.household_role, OptionalText(j, "household_role", 10));
  TL_ASSIGN_OR_RETURN(p.father_id, OptionalId(j, "father_id", kYear));
  TL_ASSIGN_OR_RETURN(p.mother_id, OptionalId(j, "mother_id", kYear));
  TL_ASSIGN_OR_RETURN(p.spouse_id, OptionalId(j, "spouse_id", kYear));
  TL_ASSIGN_OR_RETURN(auto status, OptionalText(j, "status", 10));
  if (status && *status != "living" && *status != "deceased") {
    return InvalidArgument("must be living or deceased", "status");
  }
  p.status = status && *status == "deceased" ? LifeStatus::kDeceased : LifeStatus::kLiving;
  TL_ASSIGN_OR_RETURN(p.died_on, OptionalText(j, "died_on", 10));
  return p;
}

json ToJson(const Organisation& o) {
  return json{{"tax_code", o.tax_code},
              {"name", o.name},
              {"representative_id", OptId(o.representative_id)},
              {"representative_name", o.representative_name},
              {"address", o.address},
              {"unit_code", OptJson(o.unit_code)},
              {"status", o.status}};
}

Result<Organisation> OrganisationFromJson(const json& j) {
  const int kYear = 2199;  // the representative's birth year is checked by Validate
  Organisation o;
  auto code = j.find("tax_code");
  if (code == j.end() || !code->is_string()) {
    return InvalidArgument("is required: 10 digits, or 10-3 for a branch, as a string", "tax_code");
  }
  o.tax_code = text::Trim(code->get_ref<const std::string&>());
  TL_ASSIGN_OR_RETURN(auto name, OptionalText(j, "name", 300));
  if (!name) return InvalidArgument("is required", "name");
  o.name = text::CleanText(*name);
  TL_ASSIGN_OR_RETURN(o.representative_id, OptionalId(j, "representative_id", kYear));
  TL_ASSIGN_OR_RETURN(auto rep, OptionalText(j, "representative_name", 200));
  o.representative_name = rep ? text::CleanText(*rep) : "";
  TL_ASSIGN_OR_RETURN(auto address, OptionalText(j, "address", 500));
  if (!address) return InvalidArgument("is required", "address");
  o.address = text::CleanText(*address);
  TL_ASSIGN_OR_RETURN(o.unit_code, OptionalText(j, "unit_code", 10));
  TL_ASSIGN_OR_RETURN(auto status, OptionalText(j, "status", 10));
  if (status) o.status = *status;
  return o;
}

std::unique_ptr<PopulationRegistry::BulkLoader> PopulationRegistry::StartLoad(
    const std::string& actor, std::function<void(const Rejection&)> on_reject, std::function<void(int64_t)> progress) {
  return std::make_unique<BulkLoader>(this, actor, std::move(on_reject), std::move(progress));
}

PopulationRegistry::BulkLoader::BulkLoader(PopulationRegistry* registry, std::string actor,
                                           std::function<void(const Rejection&)> on_reject,
                                           std::function<void(int64_t)> progress)
    : registry_(registry), actor_(std::move(actor)), on_reject_(std::move(on_reject)), progress_(std::move(progress)),
      start_(std::chrono::steady_clock::now()) {
  batch_.reserve(kBatch);
}

void PopulationRegistry::BulkLoader::Add(Person p) {
  if (!failure_.ok() || finished_) return;
  batch_.push_back(std::move(p));
  if (batch_.size() >= kBatch) failure_ = Flush();
}

Status PopulationRegistry::BulkLoader::Flush() {
  if (batch_.empty()) return Status::Ok();
  storage::Database* db = registry_->db_;
  bool sqlite = db->dialect() == storage::Dialect::kSqlite;
  if (!started_) {
    started_ = true;
    TL_ASSIGN_OR_RETURN(int64_t before, registry_->Count());
    rebuild_indexes_ = before == 0;
    staged_ = rebuild_indexes_ && sqlite;
    TL_RETURN_IF_ERROR(db->Write([&](storage::Session& s) -> Status {
      if (rebuild_indexes_) {
        for (const auto& ix : kIndexes) TL_RETURN_IF_ERROR(s.ExecScript(std::string("DROP INDEX IF EXISTS ") + ix[0]));
      }
      if (staged_) {
        TL_RETURN_IF_ERROR(s.ExecScript("DROP TABLE IF EXISTS people_staging"));
        TL_RETURN_IF_ERROR(s.ExecScript(kCreateStaging));
      }
      return Status::Ok();
    }));
  }
  int64_t now = registry_->clock_->NowMillis();
  std::vector<int64_t> duplicates;
  TL_RETURN_IF_ERROR(db->Write([&](storage::Session& s) -> Status {
    duplicates.clear();
    for (const auto& person : batch_) {
      TL_ASSIGN_OR_RETURN(auto n, s.ExecV(staged_ ? kInsertStaging : kInsertPerson, Params(person, now)));
      if (n == 0) duplicates.push_back(person.personal_id);
    }
    audit::Entry e{actor_, staged_ ? "population.stage" : "population.load", "people", "", "",
                   json{{"rows", batch_.size()}, {"duplicates", duplicates.size()}}.dump()};
    return registry_->audit_->Append(s, e);
  }));
  report_.read += static_cast<int64_t>(batch_.size());
  if (staged_) staged_rows_ += static_cast<int64_t>(batch_.size());
  report_.loaded += static_cast<int64_t>(batch_.size() - duplicates.size());
  report_.rejected += static_cast<int64_t>(duplicates.size());
  if (on_reject_) {
    for (int64_t d : duplicates) on_reject_({0, "personal_id", FormatPersonalId(d) + " is already in the registry"});
  }
  batch_.clear();
  if (progress_) progress_(report_.read);
  return Status::Ok();
}

Result<LoadReport> PopulationRegistry::BulkLoader::Finish() {
  if (finished_) return FailedPrecondition("the load is already finished");
  if (failure_.ok()) failure_ = Flush();
  finished_ = true;
  storage::Database* db = registry_->db_;
  if (staged_ && failure_.ok()) {
    // Numbers arrive in random order; inserting them so would dirty pages all over the table in every
    // transaction (each written again to the WAL). One sorted INSERT ... SELECT appends instead.
    std::vector<int64_t> duplicates;
    failure_ = db->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(auto cache, s.Query("PRAGMA cache_size"));  // the store's own, restored below
      const std::string restore =
          "PRAGMA cache_size=" + (cache.empty() ? std::string("-16000") : cache.rows[0].Text(0));
      TL_RETURN_IF_ERROR(s.ExecScript("PRAGMA cache_size=-1000000"));
      TL_ASSIGN_OR_RETURN(int64_t moved,
                          s.Exec(std::string("INSERT INTO people (") + kPeopleColumns +
                                 ", version, updated_at) SELECT " + kPeopleColumns +
                                 ", 1, updated_at FROM people_staging WHERE true ORDER BY personal_id "
                                 "ON CONFLICT (personal_id) DO NOTHING"));
      if (moved != staged_rows_) {
        TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT personal_id, COUNT(*) - 1 FROM people_staging "
                                             "GROUP BY personal_id HAVING COUNT(*) > 1"));
        for (const auto& r : rs.rows) {
          for (int64_t i = 0; i < r.Int(1); ++i) duplicates.push_back(r.Int(0));
        }
      }
      TL_RETURN_IF_ERROR(s.ExecScript("DROP TABLE people_staging"));
      TL_RETURN_IF_ERROR(s.ExecScript(restore));
      return Status::Ok();
    });
    report_.loaded -= static_cast<int64_t>(duplicates.size());
    report_.rejected += static_cast<int64_t>(duplicates.size());
    if (on_reject_) {
      for (int64_t d : duplicates) on_reject_({0, "personal_id", FormatPersonalId(d) + " appears more than once"});
    }
  }
  if (rebuild_indexes_) {
    const bool sqlite = db->dialect() == storage::Dialect::kSqlite;
    Status rebuilt = db->Write([&](storage::Session& s) -> Status {
      if (staged_) TL_RETURN_IF_ERROR(s.ExecScript("DROP TABLE IF EXISTS people_staging"));
      // SQLite sorts an index's entries with helper threads when allowed: ~25% faster on two cores.
      if (sqlite) TL_RETURN_IF_ERROR(s.ExecScript("PRAGMA threads=2"));
      for (const auto& ix : kIndexes) TL_RETURN_IF_ERROR(s.ExecScript(std::string(ix[1]).insert(12, " IF NOT EXISTS")));
      if (sqlite) TL_RETURN_IF_ERROR(s.ExecScript("PRAGMA threads=0"));
      return Status::Ok();
    });
    if (failure_.ok()) failure_ = rebuilt;
  }
  TL_RETURN_IF_ERROR(failure_);
  report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return report_;
}

Result<LoadReport> PopulationRegistry::Import(std::istream& in, InputFormat format, const std::string& actor,
                                              const std::function<void(const Rejection&)>& on_reject,
                                              const std::function<void(int64_t)>& progress) {
  int year = CurrentYear(clock_);
  std::string today = Today(clock_);
  int64_t invalid = 0;
  auto loader = StartLoad(actor, on_reject, progress);
  TL_ASSIGN_OR_RETURN(int64_t unreadable, ForEachRow(
                                              in, format, kFields,
                                              [&](int64_t line_no, json j) -> Status {
                                                auto p = ParseAndValidate(j, year, today);
                                                if (!p.ok()) {
                                                  ++invalid;
                                                  on_reject({line_no, p.status().field(), p.status().message()});
                                                } else {
                                                  loader->Add(std::move(*p));
                                                }
                                                return Status::Ok();
                                              },
                                              on_reject));
  invalid += unreadable;
  TL_ASSIGN_OR_RETURN(auto report, loader->Finish());
  report.read += invalid;
  report.rejected += invalid;
  return report;
}

Result<LoadReport> PopulationRegistry::ImportOrganisations(std::istream& in, InputFormat format,
                                                           const std::string& actor,
                                                           const std::function<void(const Rejection&)>& on_reject,
                                                           const std::function<void(int64_t)>& progress) {
  constexpr size_t kOrganisationBatch = 1000;
  auto start = std::chrono::steady_clock::now();
  int year = CurrentYear(clock_);
  LoadReport report;
  std::map<std::string, int64_t> first_line;  // tax code -> the line it first appeared on
  std::vector<Organisation> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    int64_t inserted = 0, updated = 0, unchanged = 0;
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      inserted = updated = unchanged = 0;  // a retried transaction counts afresh
      for (const auto& o : batch) {
        TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT name, representative_id, representative_name, address, unit_code, "
                                             "status FROM organisations WHERE tax_code = ?",
                                             {o.tax_code}));
        if (!rs.empty()) {
          const auto& r = rs.rows[0];
          std::optional<int64_t> rep = r.IsNull(1) ? std::nullopt : std::optional<int64_t>(r.Int(1));
          if (r.Text(0) == o.name && rep == o.representative_id && r.Text(2) == o.representative_name &&
              r.Text(3) == o.address && r.OptText(4) == o.unit_code && r.Text(5) == o.status) {
            ++unchanged;
            continue;
          }
        }
        ++(rs.empty() ? inserted : updated);
        TL_RETURN_IF_ERROR(SaveOrganisation(s, o));
      }
      audit::Entry e{actor, "population.organisations.load", "organisations", "", "",
                     json{{"rows", batch.size()}, {"inserted", inserted}, {"updated", updated}, {"unchanged", unchanged}}
                         .dump()};
      return audit_->Append(s, e);
    }));
    report.loaded += inserted + updated;
    report.unchanged += unchanged;
    batch.clear();
    if (progress) progress(report.read);
    return Status::Ok();
  };
  TL_ASSIGN_OR_RETURN(int64_t unreadable,
                      ForEachRow(
                          in, format, kOrganisationFields,
                          [&](int64_t line_no, json j) -> Status {
                            ++report.read;
                            auto o = ParseAndValidateOrganisation(j, year);
                            if (!o.ok()) {
                              ++report.rejected;
                              on_reject({line_no, o.status().field(), o.status().message()});
                              return Status::Ok();
                            }
                            auto [it, fresh] = first_line.emplace(o->tax_code, line_no);
                            if (!fresh) {
                              ++report.rejected;
                              on_reject({line_no, "tax_code",
                                         "appears more than once in this file (first on line " +
                                             std::to_string(it->second) + ")"});
                              return Status::Ok();
                            }
                            batch.push_back(std::move(*o));
                            return batch.size() >= kOrganisationBatch ? flush() : Status::Ok();
                          },
                          on_reject));
  TL_RETURN_IF_ERROR(flush());
  report.read += unreadable;
  report.rejected += unreadable;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Result<std::optional<Person>> PopulationRegistry::Get(int64_t personal_id) const {
  std::optional<Person> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kPeopleColumns + " FROM people WHERE personal_id = ?",
                                         {personal_id}));
    if (!rs.empty()) out = FromRow(rs.rows[0]);
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PopulationRegistry::Count() const {
  int64_t n = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM people"));
    n = rs.rows[0].Int(0);
    return Status::Ok();
  }));
  return n;
}

Status PopulationRegistry::Update(storage::Session& s, const Person& p, const std::string& actor,
                                  const std::string& source) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kPeopleColumns +
                                           ", version FROM people WHERE personal_id = ?",
                                       {p.personal_id}));
  int64_t now = clock_->NowMillis();
  if (rs.empty()) {
    auto params = Params(p, now);
    TL_ASSIGN_OR_RETURN(auto n, s.ExecV(kInsertPerson, params));
    (void)n;
    TL_ASSIGN_OR_RETURN(auto h, s.Exec("INSERT INTO people_history (personal_id, version, at, actor, source, record) "
                                       "VALUES (?, 1, ?, ?, ?, ?)",
                                       {p.personal_id, now, actor, source, ToJson(p).dump()}));
    (void)h;
    return Status::Ok();
  }
  int64_t version = rs.rows[0].Int(kPeopleColumnCount) + 1;
  auto params = Params(p, now);
  params.erase(params.begin());  // personal_id goes last, in WHERE
  params.pop_back();             // updated_at
  params.emplace_back(version);
  params.emplace_back(now);
  params.emplace_back(p.personal_id);
  TL_ASSIGN_OR_RETURN(auto n, s.ExecV("UPDATE people SET full_name = ?, birth_date = ?, sex = ?, birth_place = ?, "
                                      "permanent_unit = ?, permanent_address = ?, temporary_unit = ?, "
                                      "temporary_address = ?, household_id = ?, household_role = ?, father_id = ?, "
                                      "mother_id = ?, spouse_id = ?, status = ?, died_on = ?, version = ?, "
                                      "updated_at = ? WHERE personal_id = ?",
                                      params));
  (void)n;
  TL_ASSIGN_OR_RETURN(auto h, s.Exec("INSERT INTO people_history (personal_id, version, at, actor, source, record) "
                                     "VALUES (?, ?, ?, ?, ?, ?)",
                                     {p.personal_id, version, now, actor, source, ToJson(p).dump()}));
  (void)h;
  return Status::Ok();
}

Result<std::optional<Person>> PopulationRegistry::GetIn(storage::Session& s, int64_t personal_id) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kPeopleColumns + " FROM people WHERE personal_id = ?",
                                       {personal_id}));
  if (rs.empty()) return std::optional<Person>();
  return std::optional<Person>(FromRow(rs.rows[0]));
}

namespace {

// Province 001 (registered in Hà Nội), the century/sex digit, the year: the first 6 digits of a
// newborn's personal id.
int64_t ChildIdPrefix(int year, Sex sex) {
  int century = year < 2000 ? 0 : (year < 2100 ? 2 : 4);
  return (1 * 10 + century + (sex == Sex::kFemale ? 1 : 0)) * 100 + year % 100;
}

int64_t RandomSixDigits() {
  std::string r = crypto::RandomToken(8);
  uint64_t n = 0;
  for (char c : r) n = n * 131 + static_cast<unsigned char>(c);
  return static_cast<int64_t>(n % 1000000);
}

}  // namespace

Result<int64_t> PopulationRegistry::CandidateChildId(const Birth& b) {
  TL_ASSIGN_OR_RETURN(auto born, ParseCivilDate(b.birth_date, "child.date_of_birth"));
  return ChildIdPrefix(born.year, b.sex) * 1000000 + RandomSixDigits();
}

Result<int64_t> PopulationRegistry::RegisterBirth(storage::Session& s, const Birth& b, const std::string& actor,
                                                  const std::string& source) const {
  TL_ASSIGN_OR_RETURN(auto born, ParseCivilDate(b.birth_date, "child.date_of_birth"));
  std::optional<Person> father, mother;
  if (b.father_id) {
    TL_ASSIGN_OR_RETURN(father, GetIn(s, *b.father_id));
  }
  if (b.mother_id) {
    TL_ASSIGN_OR_RETURN(mother, GetIn(s, *b.mother_id));
  }
  // The other parent: the known parent's spouse of the opposite sex.
  if (father && !mother && father->spouse_id) {
    TL_ASSIGN_OR_RETURN(mother, GetIn(s, *father->spouse_id));
    if (mother && mother->sex != Sex::kFemale) mother.reset();
  }
  if (mother && !father && mother->spouse_id) {
    TL_ASSIGN_OR_RETURN(father, GetIn(s, *mother->spouse_id));
    if (father && father->sex != Sex::kMale) father.reset();
  }
  const Person* home = father ? &*father : (mother ? &*mother : nullptr);
  if (!home) return NotFound("neither parent is in the population registry");
  const int64_t prefix = ChildIdPrefix(born.year, b.sex);
  int64_t child_id = 0;
  for (int attempt = 0; attempt < 50 && child_id == 0; ++attempt) {
    int64_t candidate = attempt == 0 && b.candidate_id && *b.candidate_id / 1000000 == prefix
                            ? *b.candidate_id
                            : prefix * 1000000 + RandomSixDigits();
    TL_ASSIGN_OR_RETURN(auto existing, GetIn(s, candidate));
    if (!existing) child_id = candidate;
  }
  if (child_id == 0) return Internal("no free personal id for this birth year");
  Person child;
  child.personal_id = child_id;
  child.full_name = b.full_name;
  child.birth_date = b.birth_date;
  child.sex = b.sex;
  child.birth_place = b.birth_place;
  child.father_id = father ? std::optional(father->personal_id) : std::nullopt;
  child.mother_id = mother ? std::optional(mother->personal_id) : std::nullopt;
  child.permanent_unit = home->permanent_unit;
  child.permanent_address = home->permanent_address;
  child.household_id = home->household_id;
  if (child.household_id) child.household_role = "child";
  int year = CivilDateFromDays(clock_->NowMillis() / 86400000).year;
  TL_RETURN_IF_ERROR(Validate(child, year, FormatCivilDate(CivilDateFromDays((clock_->NowMillis() + 7 * 3600000LL) / 86400000))));
  TL_RETURN_IF_ERROR(Update(s, child, actor, source));
  return child_id;
}

Status PopulationRegistry::RegisterMarriage(storage::Session& s, int64_t husband, int64_t wife, const std::string& actor,
                                           const std::string& source) const {
  TL_ASSIGN_OR_RETURN(auto h, GetIn(s, husband));
  TL_ASSIGN_OR_RETURN(auto w, GetIn(s, wife));
  if (!h) return NotFound("the husband is not in the population registry");
  if (!w) return NotFound("the wife is not in the population registry");
  for (const Person* p : {&*h, &*w}) {
    int64_t other = p == &*h ? wife : husband;
    if (p->status == LifeStatus::kDeceased) return FailedPrecondition(p->full_name + " is recorded as deceased");
    if (p->spouse_id && *p->spouse_id != other) {
      // A widow or widower may marry again: the recorded spouse's death ended that marriage.
      TL_ASSIGN_OR_RETURN(auto former, GetIn(s, *p->spouse_id));
      if (!former || former->status != LifeStatus::kDeceased) {
        return FailedPrecondition(p->full_name + " is recorded as married to " + FormatPersonalId(*p->spouse_id));
      }
    }
  }
  h->spouse_id = wife;
  w->spouse_id = husband;
  TL_RETURN_IF_ERROR(Update(s, *h, actor, source));
  return Update(s, *w, actor, source);
}

Status PopulationRegistry::RegisterPermanentResidence(storage::Session& s, int64_t person, const std::string& unit_code,
                                                      const std::string& address, std::optional<int64_t> head,
                                                      const std::string& role, const std::string& actor,
                                                      const std::string& source) const {
  TL_ASSIGN_OR_RETURN(auto p, GetIn(s, person));
  if (!p) return NotFound("the person is not in the population registry");
  p->permanent_unit = unit_code;
  p->permanent_address = address;
  if (head && *head != person) {
    TL_ASSIGN_OR_RETURN(auto h, GetIn(s, *head));
    if (!h) return NotFound("the head of household is not in the population registry");
    p->household_id = h->household_id.value_or(h->personal_id);
    p->household_role = role;
  } else {
    p->household_id = person;
    p->household_role = "head";
  }
  return Update(s, *p, actor, source);
}

Status PopulationRegistry::RegisterDeath(storage::Session& s, int64_t person, const std::string& died_on,
                                         const std::string& actor, const std::string& source, const std::string& field,
                                         const std::string& date_field) const {
  TL_ASSIGN_OR_RETURN(auto died, ParseCivilDate(died_on, date_field));
  (void)died;
  TL_ASSIGN_OR_RETURN(auto p, GetIn(s, person));
  if (!p) {
    return Status(StatusCode::kFailedPrecondition,
                  FormatPersonalId(person) + " is not in the population registry: the death cannot be recorded", field);
  }
  if (p->status == LifeStatus::kDeceased) {
    return Status(StatusCode::kFailedPrecondition,
                  p->full_name + " (" + FormatPersonalId(person) + ") is already recorded as deceased" +
                      (p->died_on ? " on " + *p->died_on : std::string()),
                  field);
  }
  // Hà Nội's today bounds the date, as for a birth.
  const std::string today = FormatCivilDate(CivilDateFromDays((clock_->NowMillis() + 7 * 3600000LL) / 86400000));
  if (died_on < p->birth_date || died_on > today) {
    return InvalidArgument("must be between the birth date (" + p->birth_date + ") and today", date_field);
  }
  p->status = LifeStatus::kDeceased;
  p->died_on = died_on;
  return Update(s, *p, actor, source);
}

namespace {

// The person with their relations and household, read in the caller's transaction.
Result<std::optional<json>> ReadFull(storage::Session& s, int64_t id) {
  const std::string select = std::string("SELECT ") + kPeopleColumns + " FROM people WHERE ";
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(select + "personal_id = ?", {id}));
  if (rs.empty()) return std::optional<json>();
  Person p = FromRow(rs.rows[0]);
  json out = ToJson(p);
  // Father, mother and spouse in one statement (-1 stands for a missing link: no one has it).
  TL_ASSIGN_OR_RETURN(auto rel, s.Query(select + "personal_id IN (?, ?, ?)",
                                        {p.father_id.value_or(-1), p.mother_id.value_or(-1), p.spouse_id.value_or(-1)}));
  std::map<int64_t, Person> related;
  for (const auto& r : rel.rows) {
    Person x = FromRow(r);
    related.emplace(x.personal_id, std::move(x));
  }
  auto one = [&](const std::optional<int64_t>& id) -> json {
    if (!id) return json(nullptr);
    auto it = related.find(*id);
    if (it == related.end()) return json{{"personal_id", FormatPersonalId(*id)}, {"in_registry", false}};
    return Brief(it->second);
  };
  out["father"] = one(p.father_id);
  out["mother"] = one(p.mother_id);
  out["spouse"] = one(p.spouse_id);
  json children = json::array();
  TL_ASSIGN_OR_RETURN(auto kids, s.Query(select + (p.sex == Sex::kFemale ? "mother_id = ?" : "father_id = ?") +
                                             " ORDER BY birth_date, personal_id LIMIT 50",
                                         {id}));
  for (const auto& r : kids.rows) children.push_back(Brief(FromRow(r)));
  out["children"] = std::move(children);
  json household = nullptr;
  if (p.household_id) {
    json members = json::array();
    TL_ASSIGN_OR_RETURN(
        auto hs, s.Query(select + "household_id = ? ORDER BY birth_date, personal_id LIMIT 50", {*p.household_id}));
    for (const auto& r : hs.rows) {
      Person m = FromRow(r);
      json b = Brief(m);
      b["household_role"] = OptJson(m.household_role);
      members.push_back(std::move(b));
    }
    household = json{{"id", FormatPersonalId(*p.household_id)}, {"members", std::move(members)}};
  }
  out["household"] = std::move(household);
  return std::optional<json>(std::move(out));
}

}  // namespace

exchange::DataService PopulationRegistry::Service() {
  return {"registry.person", "CATP01", "Thông tin công dân (cơ sở dữ liệu dân cư)",
          {"basic", "residence", "relations", "household"}};
}

namespace {

// A look-up's answer is written straight from the rows (core/json_writer.h), on both backends: the
// same document as ReadFull's, cut to the granted groups, with its members in a fixed order (basic,
// residence, relations, household) and no nlohmann object in between. On SQLite it used to be one
// statement building the document with JSON1 (json_object, json_group_array), which re-parses every
// nested object it embeds: in the sqlite3 shell, on a store of 10 million people, that statement took
// ~53 µs of CPU per document against ~19 µs for the same rows read plain (10,000 random people).
// The statements' texts are constants: building them per look-up once took 5% of the writer's time.
// One relative (SQLite makes a temporary table for an IN list; three point reads cost less).
constexpr char kRelativeSql[] =
    "SELECT personal_id, full_name, birth_date, sex, status FROM people WHERE personal_id = ?";
// Oldest first (the household's in the order of its index, kIndexes: no sort).
constexpr char kChildrenOfMotherSql[] =
    "SELECT personal_id, full_name, birth_date, sex, status FROM people WHERE mother_id = ? "
    "ORDER BY birth_date, personal_id LIMIT 50";
constexpr char kChildrenOfFatherSql[] =
    "SELECT personal_id, full_name, birth_date, sex, status FROM people WHERE father_id = ? "
    "ORDER BY birth_date, personal_id LIMIT 50";
constexpr char kHouseholdSql[] =
    "SELECT personal_id, full_name, birth_date, sex, status, household_role FROM people WHERE household_id = ? "
    "ORDER BY birth_date, personal_id LIMIT 50";

void WriteTextOrNull(JsonWriter& w, const storage::Row& r, size_t i) {
  if (r.IsNull(i))
    w.Null();
  else
    w.String(r.Text(i));
}
void WriteIdOrNull(JsonWriter& w, const storage::Row& r, size_t i) {
  if (r.IsNull(i))
    w.Null();
  else
    w.String(FormatPersonalId(r.Int(i)));
}
// A row of (personal_id, full_name, birth_date, sex, status[, household_role when `with_role`]) as a
// brief person.
void WriteBrief(JsonWriter& w, const storage::Row& r, bool with_role) {
  w.BeginObject();
  w.Key("personal_id").String(FormatPersonalId(r.Int(0)));
  w.Key("full_name");
  WriteTextOrNull(w, r, 1);
  w.Key("birth_date");
  WriteTextOrNull(w, r, 2);
  w.Key("sex");
  WriteTextOrNull(w, r, 3);
  w.Key("status");
  WriteTextOrNull(w, r, 4);
  if (with_role) {
    w.Key("household_role");
    WriteTextOrNull(w, r, 5);
  }
  w.EndObject();
}

// The columns of the person's row the look-up reads (kPersonSql).
enum PersonColumn : size_t {
  kId,
  kName,
  kBirthDate,
  kSex,
  kBirthPlace,
  kStatus,
  kDiedOn,
  kPermanentUnit,
  kPermanentAddress,
  kTemporaryUnit,
  kTemporaryAddress,
  kFather,
  kMother,
  kSpouse,
  kHousehold,
  kHouseholdRole
};
constexpr char kPersonSql[] =
    "SELECT personal_id, full_name, birth_date, sex, birth_place, status, died_on, permanent_unit, permanent_address, "
    "temporary_unit, temporary_address, father_id, mother_id, spouse_id, household_id, household_role "
    "FROM people WHERE personal_id = ?";

// What a look-up read for the granted field groups, as rows: the statements run inside the look-up's
// work (on SQLite the writer's), the document is written from them afterwards (RenderGranted), off
// the single writer.
struct GrantedRows {
  std::set<std::string> groups;
  storage::Row person;
  std::array<std::optional<storage::ResultSet>, 3> relatives;  // father, mother, spouse; nullopt when NULL
  storage::ResultSet children;
  storage::ResultSet household;
};

// Reads the person and, per granted group, the relatives, children and household; nullopt for an
// unknown number.
Result<std::optional<GrantedRows>> FetchGranted(storage::Session& s, int64_t id, const std::set<std::string>& groups) {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(kPersonSql, {id}));
  if (rs.empty()) return std::optional<GrantedRows>();
  GrantedRows out;
  out.groups = groups;
  out.person = std::move(rs.rows[0]);
  const storage::Row& p = out.person;
  if (groups.count("relations")) {
    size_t i = 0;
    for (size_t col : {kFather, kMother, kSpouse}) {
      if (!p.IsNull(col)) {
        TL_ASSIGN_OR_RETURN(out.relatives[i], s.Query(kRelativeSql, {p.Int(col)}));
      }
      ++i;
    }
    TL_ASSIGN_OR_RETURN(out.children,
                        s.Query(p.Text(kSex) == "female" ? kChildrenOfMotherSql : kChildrenOfFatherSql, {p.Int(kId)}));
  }
  if (groups.count("household") && !p.IsNull(kHousehold)) {
    TL_ASSIGN_OR_RETURN(out.household, s.Query(kHouseholdSql, {p.Int(kHousehold)}));
  }
  return std::optional<GrantedRows>(std::move(out));
}

// The person's document cut to the granted field groups, serialised.
std::string RenderGranted(const GrantedRows& g) {
  const storage::Row& p = g.person;
  JsonWriter w;
  w.BeginObject();
  auto text = [&](const char* key, size_t col) {
    w.Key(key);
    WriteTextOrNull(w, p, col);
  };
  auto person_id = [&](const char* key, size_t col) {
    w.Key(key);
    WriteIdOrNull(w, p, col);
  };
  // A list of brief people, oldest first (at most 50, as ReadFull).
  auto list = [&](const storage::ResultSet& rows, bool with_role) {
    w.BeginArray();
    for (const auto& r : rows.rows) WriteBrief(w, r, with_role);
    w.EndArray();
  };
  if (g.groups.count("basic")) {
    w.Key("personal_id").String(FormatPersonalId(p.Int(kId)));
    text("full_name", kName);
    text("birth_date", kBirthDate);
    text("sex", kSex);
    text("birth_place", kBirthPlace);
    text("status", kStatus);
    text("died_on", kDiedOn);
  }
  if (g.groups.count("residence")) {
    text("permanent_unit", kPermanentUnit);
    text("permanent_address", kPermanentAddress);
    text("temporary_unit", kTemporaryUnit);
    text("temporary_address", kTemporaryAddress);
  }
  if (g.groups.count("relations")) {
    person_id("father_id", kFather);
    person_id("mother_id", kMother);
    person_id("spouse_id", kSpouse);
    size_t i = 0;
    for (auto [key, col] : {std::pair{"father", kFather}, std::pair{"mother", kMother}, std::pair{"spouse", kSpouse}}) {
      const auto& rel = g.relatives[i++];
      w.Key(key);
      if (p.IsNull(col)) {
        w.Null();
      } else if (rel && !rel->empty()) {
        WriteBrief(w, rel->rows[0], false);
      } else {
        w.BeginObject()
            .Key("personal_id")
            .String(FormatPersonalId(p.Int(col)))
            .Key("in_registry")
            .Bool(false)
            .EndObject();
      }
    }
    w.Key("children");
    list(g.children, false);
  }
  if (g.groups.count("household")) {
    person_id("household_id", kHousehold);
    text("household_role", kHouseholdRole);
    w.Key("household");
    if (p.IsNull(kHousehold)) {
      w.Null();
    } else {
      w.BeginObject().Key("id").String(FormatPersonalId(p.Int(kHousehold))).Key("members");
      list(g.household, true);
      w.EndObject();
    }
  }
  w.EndObject();
  return w.Take();
}

}  // namespace

namespace {

// What a look-up read: the rows of the answer and the field groups it carries, or why there is none.
struct LookUpRead {
  Status refused;      // PermissionDenied (no live grant for the agency) or NotFound
  std::string fields;  // the granted groups, comma-separated
  GrantedRows rows;    // written into the answer by RenderGranted
};

// Deny by default: the official's agency needs a live grant for the data service.
Result<LookUpRead> ReadForLookUp(storage::Session& s, const exchange::Grants& grants, const http::Principal& who,
                                 int64_t personal_id) {
  LookUpRead out;
  auto granted = grants.Check(s, who.agency.value_or(""), PopulationRegistry::Service().code);
  if (!granted.ok()) {
    if (granted.status().code() != StatusCode::kPermissionDenied) return granted.status();
    out.refused = granted.status();
    return out;
  }
  for (const auto& group : *granted) out.fields += (out.fields.empty() ? "" : ",") + group;
  TL_ASSIGN_OR_RETURN(auto found, FetchGranted(s, personal_id, *granted));
  if (!found) {
    out.refused = NotFound("no person with this personal identification number");
    return out;
  }
  out.rows = std::move(*found);
  return out;
}

// The audit entry of a refused attempt (no live grant): the refusal is on the record too.
audit::Entry DeniedEntry(const http::Principal& who, int64_t personal_id, const Purpose& why,
                         const std::string& request_id) {
  return {who.username, "exchange.denied", "registry.person", "", request_id,
          json{{"agency", who.agency.value_or("")}, {"purpose", why.purpose},
               {"person_suffix", FormatPersonalId(personal_id).substr(8)}}.dump()};
}

exchange::AccessRecord RecordOf(const http::Principal& who, int64_t personal_id, const Purpose& why,
                                const std::string& request_id, std::string fields) {
  exchange::AccessRecord r;
  r.personal_id = personal_id;
  r.consumer_agency = who.agency.value_or("");
  r.official = who.username;
  r.service = PopulationRegistry::Service().code;
  r.fields = std::move(fields);
  r.purpose = why.purpose;
  r.legal_basis = why.legal_basis;
  r.dossier_code = why.dossier_code;
  r.request_id = request_id;
  return r;
}

}  // namespace

void PopulationRegistry::LookUpAsync(const http::Principal& who, int64_t personal_id, const Purpose& why,
                                     const std::string& request_id, std::function<void(Result<std::string>)> done) {
  if (db_->dialect() == storage::Dialect::kPostgres) return LookUpBatched(who, personal_id, why, request_id, std::move(done));
  // SQLite: the grant check, the read and its log entry are one work on the writer connection, whose
  // page cache stays warm, and no thread waits for it: the group commit calls `done`. The answer
  // leaves only after its record is committed, and a failed log write fails the read. The document
  // is written from the rows in `done` (the store's acknowledger thread), not on the single writer. Rerunnable
  // (storage/database.h): the work sets `outcome` afresh.
  auto outcome = std::make_shared<LookUpRead>();
  db_->WriteAsyncRerunnable(
      [this, who, personal_id, why, request_id, outcome](storage::Session& s) -> Status {
        TL_ASSIGN_OR_RETURN(*outcome, ReadForLookUp(s, *grants_, who, personal_id));
        if (outcome->refused.code() == StatusCode::kPermissionDenied) {
          return audit_->Append(s, DeniedEntry(who, personal_id, why, request_id));
        }
        if (!outcome->refused.ok()) return Status::Ok();
        return access_log_->Record(s, RecordOf(who, personal_id, why, request_id, outcome->fields));
      },
      [outcome, done = std::move(done)](Status committed) {
        if (!committed.ok()) return done(committed);
        if (!outcome->refused.ok()) return done(outcome->refused);
        done(RenderGranted(outcome->rows));
      });
}

void PopulationRegistry::LookUpBatched(const http::Principal& who, int64_t personal_id, const Purpose& why,
                                       const std::string& request_id, std::function<void(Result<std::string>)> done) {
  LookUpRead read;
  Status st = db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(read, ReadForLookUp(s, *grants_, who, personal_id));
    return Status::Ok();
  });
  if (!st.ok()) return done(st);
  if (read.refused.code() == StatusCode::kPermissionDenied) {
    Status logged = db_->Write([&](storage::Session& s) {
      return audit_->Append(s, DeniedEntry(who, personal_id, why, request_id));
    });
    return done(logged.ok() ? read.refused : logged);
  }
  if (!read.refused.ok()) return done(read.refused);
  auto answer = std::make_shared<std::string>(RenderGranted(read.rows));
  access_log_->RecordAsync(RecordOf(who, personal_id, why, request_id, std::move(read.fields)),
                           [answer, done = std::move(done)](Status committed) {
                             if (!committed.ok()) return done(committed);
                             done(std::move(*answer));
                           });
}

Result<json> PopulationRegistry::LookUp(const http::Principal& who, int64_t personal_id, const Purpose& why,
                                        const std::string& request_id) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::string>> answer;
  LookUpAsync(who, personal_id, why, request_id, [&](Result<std::string> a) {
    std::lock_guard lock(mu);
    answer = std::move(a);
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return answer.has_value(); });
  if (!answer->ok()) return answer->status();
  return json::parse(**answer);
}

exchange::DataService PopulationRegistry::OrganisationService() {
  return {"registry.organisation", "STC01", "Thông tin tổ chức, doanh nghiệp (đăng ký kinh doanh)",
          {"basic", "representative", "address"}};
}

Status PopulationRegistry::SaveOrganisation(storage::Session& s, const Organisation& o) const {
  TL_RETURN_IF_ERROR(Validate(o, CurrentYear(clock_)));
  TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO organisations (tax_code, name, representative_id, representative_name, "
                                     "address, unit_code, status, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) "
                                     "ON CONFLICT (tax_code) DO UPDATE SET name = excluded.name, "
                                     "representative_id = excluded.representative_id, "
                                     "representative_name = excluded.representative_name, address = excluded.address, "
                                     "unit_code = excluded.unit_code, status = excluded.status, "
                                     "version = organisations.version + 1, updated_at = excluded.updated_at",
                                     {o.tax_code, o.name, storage::OptInt(o.representative_id), o.representative_name,
                                      o.address, storage::OptText(o.unit_code), o.status, clock_->NowMillis()}));
  (void)n;
  return Status::Ok();
}

Result<json> PopulationRegistry::LookUpOrganisation(const http::Principal& who, const std::string& tax_code,
                                                    const Purpose& why, const std::string& request_id) {
  // Which members of the organisation's document each field group carries.
  static const std::map<std::string, std::vector<std::string>> kGroups = {
      {"basic", {"tax_code", "name", "status"}},
      {"representative", {"representative_id", "representative_name"}},
      {"address", {"address", "unit_code"}},
  };
  const std::string service = OrganisationService().code;
  Status refused;
  json out = json::object();
  // The grant check, the read and its log entry commit together; a refusal commits its audit entry.
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    auto granted = grants_->Check(s, who.agency.value_or(""), service);
    if (!granted.ok()) {
      if (granted.status().code() != StatusCode::kPermissionDenied) return granted.status();
      refused = granted.status();
      audit::Entry e{who.username, "exchange.denied", service, "", request_id,
                     json{{"agency", who.agency.value_or("")}, {"purpose", why.purpose}, {"tax_code", tax_code}}.dump()};
      return audit_->Append(s, e);
    }
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT tax_code, name, representative_id, representative_name, address, "
                                         "unit_code, status FROM organisations WHERE tax_code = ?",
                                         {tax_code}));
    if (rs.empty()) {
      refused = NotFound("no organisation with this tax code");
      return Status::Ok();
    }
    const auto& r = rs.rows[0];
    json full{{"tax_code", r.Text(0)},
              {"name", r.Text(1)},
              {"representative_id", r.IsNull(2) ? json(nullptr) : json(FormatPersonalId(r.Int(2)))},
              {"representative_name", r.Text(3)},
              {"address", r.Text(4)},
              {"unit_code", r.IsNull(5) ? json(nullptr) : json(r.Text(5))},
              {"status", r.Text(6)}};
    std::string fields;
    for (const auto& [group, members] : kGroups) {
      if (!granted->count(group)) continue;
      fields += (fields.empty() ? "" : ",") + group;
      for (const auto& m : members) out[m] = full[m];
    }
    exchange::AccessRecord a;
    a.tax_code = tax_code;
    a.consumer_agency = who.agency.value_or("");
    a.official = who.username;
    a.service = service;
    a.fields = fields;
    a.purpose = why.purpose;
    a.legal_basis = why.legal_basis;
    a.dossier_code = why.dossier_code;
    a.request_id = request_id;
    TL_RETURN_IF_ERROR(access_log_->Record(s, a));
    // The representative's personal id and name are that person's data too: the read is also in their
    // own log ("who looked at my data"), so a citizen learns of every agency that read them.
    if (granted->count("representative") && !r.IsNull(2)) {
      exchange::AccessRecord person = a;
      person.tax_code.clear();
      person.personal_id = r.Int(2);
      person.fields = "representative_of:" + tax_code;
      TL_RETURN_IF_ERROR(access_log_->Record(s, person));
    }
    return Status::Ok();
  }));
  if (!refused.ok()) return refused;
  return out;
}

Result<json> PopulationRegistry::Own(const http::Principal& who) {
  auto id = who.PersonalIdNumber();
  if (!id) return NotFound("this account has no personal identification number");
  std::optional<json> found;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(found, ReadFull(s, *id));
    return Status::Ok();
  }));
  if (!found) return NotFound("your personal identification number is not in the registry");
  return std::move(*found);
}

// ---- HTTP routes ----

namespace {

// The stated purpose of an official's read (?purpose=, ?legal_basis=, ?dossier=), checked.
Result<Purpose> PurposeOf(const http::Request& req) {
  Purpose why;
  why.purpose = text::CleanText(req.Query("purpose").value_or(""));
  long n = text::CodePointCount(why.purpose);
  if (n < 5 || n > 500) return InvalidArgument("state why you read this record (5-500 characters)", "purpose");
  why.legal_basis = text::CleanText(req.Query("legal_basis").value_or(""));
  if (text::CodePointCount(why.legal_basis) > 300) return InvalidArgument("is too long", "legal_basis");
  why.dossier_code = req.Query("dossier").value_or("");
  if (why.dossier_code.size() > 64) return InvalidArgument("is too long", "dossier");
  return why;
}

}  // namespace

std::vector<http::Route> Routes(PopulationRegistry* registry, const exchange::AccessLog* access_log) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  const char* kPersonSchema =
      R"({"type":"object","properties":{"personal_id":{"type":"string"},"full_name":{"type":"string"},)"
      R"("birth_date":{"type":"string","format":"date"},"sex":{"type":"string","enum":["male","female"]},)"
      R"("permanent_unit":{"type":["string","null"]},"father":{"type":["object","null"]},)"
      R"("mother":{"type":["object","null"]},"spouse":{"type":["object","null"]},"children":{"type":"array"},)"
      R"("household":{"type":["object","null"]},"status":{"type":"string"}}})";
  r.push_back({Method::kGet, "/api/v1/registry/people/{personal_id}",
               Access::Roles({"desk_officer", "specialist", "leader", "integration"}),
               [registry](http::Request& req) -> Result<http::Response> {
                 if (req.principal->role == "integration" && !req.principal->HasScope("registry.read")) {
                   return PermissionDenied("this API key lacks the scope registry.read");
                 }
                 TL_ASSIGN_OR_RETURN(int64_t id, ParsePersonalId(req.Param("personal_id"), 2199, "personal_id"));
                 TL_ASSIGN_OR_RETURN(Purpose why, PurposeOf(req));
                 // Answered once the read's log entry is durable, without holding a thread meanwhile.
                 return http::Response::Later([registry, who = *req.principal, id, why,
                                               rid = req.request_id](http::Reply reply) {
                   registry->LookUpAsync(who, id, why, rid, [reply = std::move(reply)](Result<std::string> body) {
                     if (!body.ok()) return reply(body.status());
                     reply(http::Response::Json(200, std::move(*body)));
                   });
                 });
               },
               {"An official's (or an agency system's, with an API key of scope registry.read) look-up of a person "
                "in the population registry, with a stated purpose, limited to the field groups the agency is "
                "granted; every read is recorded in the data access log the person can see",
                "registry",
                {{"personal_id", "path", "12-digit personal identification number"},
                 {"purpose", "query", "Why the record is read (5-500 characters)", true},
                 {"legal_basis", "query", "Legal basis of the read"},
                 {"dossier", "query", "The dossier the read serves"}},
                "",
                kPersonSchema}});
  // Answered on the I/O thread on an embedded store: a read, then a deferred reply after the log write.
  r.back().quick = true;
  r.push_back({Method::kGet, "/api/v1/registry/organisations/{tax_code}",
               Access::Roles({"desk_officer", "specialist", "leader", "integration"}),
               [registry](http::Request& req) -> Result<http::Response> {
                 if (req.principal->role == "integration" && !req.principal->HasScope("registry.read")) {
                   return PermissionDenied("this API key lacks the scope registry.read");
                 }
                 const std::string tax_code = req.Param("tax_code");
                 TL_RETURN_IF_ERROR(ValidateTaxCode(tax_code, "tax_code"));
                 TL_ASSIGN_OR_RETURN(Purpose why, PurposeOf(req));
                 TL_ASSIGN_OR_RETURN(auto j, registry->LookUpOrganisation(*req.principal, tax_code, why, req.request_id));
                 return http::Response::Json(200, j.dump());
               },
               {"An official's (or an agency system's, with an API key of scope registry.read) look-up of an "
                "organisation by tax code, with a stated purpose, limited to the field groups of "
                "registry.organisation the agency is granted; every read is recorded in the data access log",
                "registry",
                {{"tax_code", "path", "Tax code (10 digits, or 10-3 for a branch)", true},
                 {"purpose", "query", "Why the record is read (5-500 characters)", true},
                 {"legal_basis", "query", "Legal basis of the read"},
                 {"dossier", "query", "The dossier the read serves"}},
                "",
                R"({"type":"object","properties":{"tax_code":{"type":"string"},"name":{"type":"string"},)"
                R"("status":{"type":"string"},"representative_id":{"type":["string","null"]},)"
                R"("representative_name":{"type":"string"},"address":{"type":"string"},"unit_code":{"type":["string","null"]}}})"}});
  r.push_back({Method::kGet, "/api/v1/me/registry", Access::Roles({"citizen"}).PersonalData(),
               [registry](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, registry->Own(*req.principal));
                 return http::Response::Json(200, j.dump());
               },
               {"Your own record in the population registry", "registry", {}, "", kPersonSchema}});
  r.push_back({Method::kGet, "/api/v1/me/data-access-log", Access::Roles({"citizen", "organisation"}),
               [access_log](http::Request& req) -> Result<http::Response> {
                 // A citizen sees the reads of its personal id, an organisation account those of its tax code.
                 auto subject = exchange::SubjectOf(*req.principal);
                 if (!subject) {
                   return NotFound(req.principal->role == "organisation"
                                       ? "this account has no tax code"
                                       : "this account has no personal identification number");
                 }
                 int64_t before = 0;
                 if (auto b = req.Query("before")) {
                   char* end = nullptr;
                   before = std::strtoll(b->c_str(), &end, 10);
                   if (b->empty() || *end != '\0' || before < 0) return InvalidArgument("must be a number", "before");
                 }
                 TL_ASSIGN_OR_RETURN(auto items, access_log->ForSubject(*subject, before, 100));
                 json out = json::array();
                 for (const auto& e : items) {
                   out.push_back(json{{"seq", e.seq},
                                      {"at", FormatRfc3339(e.at_ms)},
                                      {"agency", e.consumer_agency},
                                      {"official", e.official},
                                      {"service", e.service},
                                      {"subject", e.tax_code.empty() ? "person" : "organisation"},
                                      {"fields", e.fields},
                                      {"purpose", e.purpose},
                                      {"legal_basis", e.legal_basis},
                                      {"dossier_code", e.dossier_code}});
                 }
                 json body{{"items", std::move(out)}};
                 if (items.size() == 100) body["next_before"] = items.back().seq;
                 return http::Response::Json(200, body.dump());
               },
               {"Who read your data: every read by an agency of your registry record (citizens) or of your "
                "organisation's record under its tax code (organisation accounts), newest first",
                "registry",
                {{"before", "query", "seq of the last item of the previous page"}},
                "",
                R"({"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{)"
                R"("seq":{"type":"integer"},"at":{"type":"string","format":"date-time"},"agency":{"type":"string"},)"
                R"("official":{"type":"string"},"service":{"type":"string"},)"
                R"("subject":{"type":"string","enum":["person","organisation"]},"fields":{"type":"string"},)"
                R"("purpose":{"type":"string"},"legal_basis":{"type":"string"},"dossier_code":{"type":"string"}}}},)"
                R"("next_before":{"type":"integer"}}})"}});
  return r;
}

}  // namespace tl::population
