// The population registry (cơ sở dữ liệu dân cư): people and organisations, with the history of
// every change, bulk loading (import of CSV / NDJSON, or the synthetic generator; organisations by an
// idempotent upsert on their tax code), and the reads the rest of the platform makes. Organisations
// are read by officials the same way as people (a grant, a purpose, a logged read), through their own
// data service.
//
// People are stored under their personal identification number as an integer key. Every read of a
// person's record by an official goes through LookUp(), which requires a stated purpose and writes
// the read into the data access log (exchange::AccessLog), durably, before the answer is returned:
// there is no unlogged path from an agency to a person's record. A citizen reads their own record
// through Own(). Changes after the initial load (Update) keep the previous version in
// people_history.
//
// Bulk loading (BulkLoader) writes batches of 20,000 rows per transaction; into an empty registry it
// drops the secondary indexes first and rebuilds them at the end, which is several times faster
// than maintaining them row by row. Rejected rows are reported one by one, never dropped silently.
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <functional>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "modules/exchange/access_log.h"
#include "modules/exchange/grants.h"
#include "modules/population/person.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::population {

// Why an official reads a record (mục đích khai thác): required for every look-up.
struct Purpose {
  std::string purpose;      // 5-500 characters
  std::string legal_basis;  // optional
  std::string dossier_code; // optional: the dossier the read serves
};

struct LoadReport {
  int64_t read = 0;       // rows read, rejected ones included
  int64_t loaded = 0;     // rows written (new, or changed records for an upsert)
  int64_t rejected = 0;
  int64_t unchanged = 0;  // upserts only: valid rows equal to the stored record, left as they were
  double seconds = 0;
};

// One rejected input row: its line number (1-based, header included for CSV), the field and why.
struct Rejection {
  int64_t line = 0;
  std::string field;
  std::string message;
};

enum class InputFormat { kNdjson, kCsv };

class PopulationRegistry {
 public:
  PopulationRegistry(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                     const exchange::AccessLog* access_log, const exchange::Grants* grants)
      : db_(db), clock_(clock), audit_(audit), access_log_(access_log), grants_(grants) {}
  // The data service officials read through, and its field groups.
  static exchange::DataService Service();
  // The organisations' data service "registry.organisation" (field groups basic, representative,
  // address; provider STC01, the Department of Finance, keeper of business registration).
  static exchange::DataService OrganisationService();
  static std::vector<storage::Migration> Migrations();

  // Loads people in batches (see BulkLoader); `on_reject` gets each person the store refuses (a
  // duplicate number), `progress` the count so far after each batch.
  class BulkLoader;
  std::unique_ptr<BulkLoader> StartLoad(const std::string& actor, std::function<void(const Rejection&)> on_reject = {},
                                        std::function<void(int64_t)> progress = {});
  // Reads CSV (header row with the JSON field names) or NDJSON, validates every row (see Validate
  // in person.h) and loads the valid ones; each rejected row goes to `on_reject`.
  Result<LoadReport> Import(std::istream& in, InputFormat format, const std::string& actor,
                            const std::function<void(const Rejection&)>& on_reject,
                            const std::function<void(int64_t)>& progress = {});

  // Reads organisations from CSV (header row with the JSON field names: tax_code, name,
  // representative_id, representative_name, address, unit_code, status) or NDJSON, validates every row
  // (see Validate(const Organisation&) in person.h) and upserts the valid ones by tax code, in
  // transactions of 1,000 rows, each audited (population.organisations.load). A row equal to the
  // stored record is counted as unchanged and not rewritten, so importing the same file again changes
  // nothing; a changed one replaces the record and counts a version. A tax code appearing twice in the
  // file is rejected on its second line. Each rejected row goes to `on_reject`.
  Result<LoadReport> ImportOrganisations(std::istream& in, InputFormat format, const std::string& actor,
                                         const std::function<void(const Rejection&)>& on_reject,
                                         const std::function<void(int64_t)>& progress = {});

  // An official's look-up of one person with their household and relations, through the data service
  // "registry.person": only the field groups the official's agency holds a live grant for come back
  // (PermissionDenied without one, and the refused attempt goes to the audit log); the read is
  // recorded in the data access log with the purpose and the groups returned. NotFound for an
  // unknown number.
  Result<nlohmann::json> LookUp(const http::Principal& who, int64_t personal_id, const Purpose& why,
                                const std::string& request_id);
  // The same without holding the calling thread; `done` gets the serialised answer once its log entry
  // is committed (or the error). The server answers look-ups this way; LookUp() waits for it.
  // On SQLite the grant check, the read and the entry are one work on the store's writer thread,
  // whose page cache stays warm, and `done` runs there. (Reading on a reader connection instead cost
  // more CPU per look-up in all, and the machine saturated at a lower rate: SQLite drops a WAL
  // reader's whole page cache whenever anything was committed since its last read, which under a
  // stream of log entries is every read; with mmap the drop also unmaps the file.) On PostgreSQL
  // see LookUpBatched.
  void LookUpAsync(const http::Principal& who, int64_t personal_id, const Purpose& why, const std::string& request_id,
                   std::function<void(Result<std::string>)> done);
  // An official's look-up of an organisation by tax code through "registry.organisation", like LookUp:
  // a live grant for the agency (PermissionDenied without one, the attempt audited), only the granted
  // field groups, and the read recorded in the data access log under the tax code, in the same
  // transaction as the read. NotFound for an unknown tax code.
  Result<nlohmann::json> LookUpOrganisation(const http::Principal& who, const std::string& tax_code,
                                            const Purpose& why, const std::string& request_id);
  // Adds or replaces an organisation's record in the caller's transaction (its version counts the
  // changes). Names the first bad field (tax_code, name, representative_id, status).
  Status SaveOrganisation(storage::Session& s, const Organisation& o) const;

  // The caller's own record (citizens with a personal id on their account).
  Result<nlohmann::json> Own(const http::Principal& who);

  // The stored person, without logging: for the platform's own write-backs and tests.
  Result<std::optional<Person>> Get(int64_t personal_id) const;
  // Replaces a person's record in the caller's transaction, keeping the previous version in
  // people_history with `actor` and `source` (e.g. "dossier:UBND00004-260101-0001").
  Status Update(storage::Session& s, const Person& p, const std::string& actor, const std::string& source) const;
  Result<int64_t> Count() const;

  // Write-backs of civil-status results, in the caller's transaction (the dossier's issue-result),
  // each change kept in people_history with `source`. They change only people already in the
  // registry and answer NotFound for an unknown number, FailedPrecondition for a contradiction.
  struct Birth {
    std::string full_name, birth_date, birth_place;
    Sex sex = Sex::kMale;
    std::optional<int64_t> father_id, mother_id;  // known parents (either may be missing)
    // A personal id picked ahead (CandidateChildId), taken when it is still free.
    std::optional<int64_t> candidate_id;
  };
  // Registers a newborn: a new personal id (province 001, century/sex digit, year, 6 unique digits),
  // linked to the parents, in the household and residence of the first known parent. The other
  // parent defaults to that parent's spouse of the opposite sex. Returns the child's id.
  Result<int64_t> RegisterBirth(storage::Session& s, const Birth& b, const std::string& actor,
                                const std::string& source) const;
  // A random personal id of the form RegisterBirth gives the child of `b` (whether it is free is
  // RegisterBirth's to check), so that what names the child can be prepared before the transaction.
  static Result<int64_t> CandidateChildId(const Birth& b);
  Status RegisterMarriage(storage::Session& s, int64_t husband, int64_t wife, const std::string& actor,
                          const std::string& source) const;
  // A new permanent residence; with a head of household, the person joins that household.
  Status RegisterPermanentResidence(storage::Session& s, int64_t person, const std::string& unit_code,
                                    const std::string& address, std::optional<int64_t> head,
                                    const std::string& role, const std::string& actor,
                                    const std::string& source) const;
  // A death (khai tử): the person's status becomes deceased with the date of death `died_on`
  // (YYYY-MM-DD, between the birth date and today in Hà Nội). Unlike the other write-backs it refuses
  // what it cannot record: an unknown person or one already recorded as deceased is
  // FailedPrecondition naming `field` (the form's field holding the number), a bad date
  // InvalidArgument naming `date_field`. The spouse link stays (the survivor is widowed and may marry
  // again, see RegisterMarriage).
  Status RegisterDeath(storage::Session& s, int64_t person, const std::string& died_on, const std::string& actor,
                       const std::string& source, const std::string& field = "personal_id",
                       const std::string& date_field = "died_on") const;

 private:
  // LookUpAsync on PostgreSQL: the grant check and the read in a read transaction of the calling
  // thread, the entry through the access log's batches (AccessLog::RecordAsync), `done` on the log's
  // thread after their commit. An entry per transaction had serialised all readers on the log's head
  // row, a commit each.
  void LookUpBatched(const http::Principal& who, int64_t personal_id, const Purpose& why, const std::string& request_id,
                     std::function<void(Result<std::string>)> done);
  Result<std::optional<Person>> GetIn(storage::Session& s, int64_t personal_id) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  const exchange::AccessLog* access_log_;
  const exchange::Grants* grants_;
};

// Person <-> JSON (the API's and NDJSON's field names). FromJson names the first bad field.
nlohmann::json ToJson(const Person& p);
Result<Person> PersonFromJson(const nlohmann::json& j);
// Organisation <-> JSON (the look-up's and the import's field names). FromJson names the first bad
// field; the birth year of representative_id is checked by Validate.
nlohmann::json ToJson(const Organisation& o);
Result<Organisation> OrganisationFromJson(const nlohmann::json& j);

// Writes people in transactions of 20,000. Add() buffers; a failed batch stops the load and Finish()
// returns the error. Into an empty registry the secondary indexes are dropped by the first batch
// and rebuilt by Finish(); on SQLite such a load also goes through an append-only staging table
// that Finish() moves into the registry in one sorted, durable INSERT ... SELECT (so a crash before
// Finish leaves the registry empty, never half-loaded). Validation of the input is the caller's
// (Import validates every row).
class PopulationRegistry::BulkLoader {
 public:
  BulkLoader(PopulationRegistry* registry, std::string actor, std::function<void(const Rejection&)> on_reject,
             std::function<void(int64_t)> progress);
  void Add(Person p);
  Result<LoadReport> Finish();

 private:
  Status Flush();
  PopulationRegistry* registry_;
  std::string actor_;
  std::function<void(const Rejection&)> on_reject_;
  std::function<void(int64_t)> progress_;
  std::vector<Person> batch_;
  LoadReport report_;
  Status failure_;
  bool started_ = false, rebuild_indexes_ = false, staged_ = false, finished_ = false;
  int64_t staged_rows_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// The registry's and the data access log's HTTP routes.
std::vector<http::Route> Routes(PopulationRegistry* registry, const exchange::AccessLog* access_log);

}  // namespace tl::population
