// Procedure catalogue (danh mục thủ tục hành chính): the administrative procedures the city handles.
//
// Each procedure has a code, name, sector, levels (ministry, province, commune), applicants, competent
// agency, deciding act, processing time per channel (in person, online, postal; in working days
// where the source says so), fees and result document. Every change is a new version with an
// effective date; the current version of each procedure is kept in `procedures` for fast reads, and
// versions whose date arrives are promoted on the next read (any process may do it; it is idempotent).
// Search ignores diacritics and case ("dang ky khai sinh" finds "Đăng ký khai sinh"); each word of the
// query must begin a word of the code, name or sector ("khai s" finds "khai sinh"). It filters by
// sector and level, and pages by keyset over (rank, code).
//
// Search runs over an in-memory copy of the current catalogue (codes, folded names, summaries),
// derived from the database and tagged with the catalogue's revision, a counter every change bumps in
// the same transaction. Each search reads the revision (one indexed row) and reloads the copy when it
// moved, so a change made through any server process is seen by every other one at its next search.
//
// Forms (tờ khai): each version may store a JSON Schema of its application form (`form_schema`,
// edited through the admin routes, at most 64 KiB, in the draft-7 subset form_schema.h lists); a
// version without one has the generic default (applicant, a free form object, the components the
// procedure lists). ValidateForm checks a submission {applicant, form, components} against it,
// naming the failing field (`form.child.date_of_birth`); schemas are compiled once per (code,
// version). data/procedures/forms/*.json are imported with the catalogue.
//
// Thread-safety: safe to share; the search copy is an immutable snapshot swapped under a mutex; the
// compiled forms are cached under their own lock.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::procedures {

namespace forms {
class Cache;
}

struct SearchQuery {
  std::string text;
  std::optional<std::string> sector;
  std::optional<std::string> level;
  int limit = 20;
  std::optional<std::string> cursor;  // last code of the previous page
};

struct SearchPage {
  std::vector<std::string> items_json;  // summaries, JSON objects
  std::optional<std::string> next_cursor;
  int64_t total = 0;
};

struct ImportReport {
  int read = 0;
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int forms = 0;  // procedures given a form from data/procedures/forms/
};

class ProcedureService {
 public:
  ProcedureService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit);
  ~ProcedureService();

  static std::vector<storage::Migration> Migrations();

  Result<ImportReport> Import(const std::string& json_path, const std::string& actor);
  Result<bool> IsEmpty() const;

  Result<SearchPage> Search(const SearchQuery& q);
  // The current version, or the one in force on `at` (YYYY-MM-DD).
  Result<std::string> GetJson(const std::string& code, const std::optional<std::string>& at);
  // GetJson plus `form_schema`: the version's own schema, or the generic default (the detail view).
  Result<std::string> DetailJson(const std::string& code, const std::optional<std::string>& at);
  Result<std::string> VersionsJson(const std::string& code) const;
  Result<std::string> SectorsJson() const;

  // Checks a submission document {"applicant": {...}, "form": {...}, "components": [...]} against the
  // form of `procedure` (a document from GetJson: its code and version pick the schema). Returns
  // InvalidArgument whose field is the path of the first failing value, e.g. form.child.date_of_birth.
  Status ValidateForm(const nlohmann::json& procedure, const nlohmann::json& submission);
  // The same against the current version of the procedure `code` (NotFound if there is none).
  Status ValidateFormByCode(const std::string& code, const nlohmann::json& submission);

  // Creates a procedure or adds a version; `procedure_json` is validated, `form_schema` included
  // (absent on a change: the previous version's is kept; null: back to the default). Returns the
  // stored version with its form_schema.
  Result<std::string> Save(const audit::Entry& actor, const std::string& procedure_json,
                           const std::optional<std::string>& expected_code, bool create);

  // How many times Search built its in-memory index of the catalogue (once per catalogue revision
  // that a search saw, however many searches arrived while it was built).
  int64_t search_index_builds() const { return index_builds_.load(std::memory_order_relaxed); }

 private:
  struct SearchIndex;
  Status PromoteDue();
  Result<std::shared_ptr<const SearchIndex>> CurrentIndex();

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  std::atomic<int64_t> last_promotion_check_{0};
  std::mutex index_build_mu_;  // held while the index is built: one build at a time
  std::mutex index_mu_;        // guards index_ (held only to copy or swap the pointer)
  std::shared_ptr<const SearchIndex> index_;
  std::atomic<int64_t> index_builds_{0};
  std::unique_ptr<forms::Cache> forms_;
};

std::vector<http::Route> Routes(ProcedureService* service);

}  // namespace tl::procedures
