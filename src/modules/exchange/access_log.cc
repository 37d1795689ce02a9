#include "modules/exchange/access_log.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/text.h"
#include "core/thread_name.h"
#include "http/json_body.h"

namespace tl::exchange {
namespace {

constexpr char kColumns[] =
    "seq, at, personal_id, consumer_agency, official, service, fields, purpose, legal_basis, dossier_code, "
    "request_id, tax_code, hash";  // the hash last: audit::chain::Verify reads it there

std::string ChainHash(const std::string& prev, int64_t seq, int64_t at, const AccessRecord& r) {
  std::string material;
  material.reserve(320);
  material += prev;
  for (const std::string& part : {std::to_string(seq), std::to_string(at), std::to_string(r.personal_id),
                                  r.consumer_agency, r.official, r.service, r.fields, r.purpose, r.legal_basis,
                                  r.dossier_code, r.request_id}) {
    material += '\x1f';
    material += part;
  }
  // Organisations' entries (migration 714) add their tax code; people's entries hash as they always did.
  if (!r.tax_code.empty()) {
    material += "\x1forg:";
    material += r.tax_code;
  }
  return crypto::Sha256Hex(material);
}

// What the platform signs: a version tag, then the sealed entry's seq and hash and the time.
std::string SealText(int64_t upto_seq, const std::string& hash, int64_t sealed_at) {
  return "thanglong-access-log-seal-v1\n" + std::to_string(upto_seq) + "\n" + hash + "\n" + std::to_string(sealed_at);
}

StoredAccess FromRow(const storage::Row& r) {
  StoredAccess e;
  e.seq = r.Int(0);
  e.at_ms = r.Int(1);
  e.personal_id = r.Int(2);
  e.consumer_agency = r.Text(3);
  e.official = r.Text(4);
  e.service = r.Text(5);
  e.fields = r.Text(6);
  e.purpose = r.Text(7);
  e.legal_basis = r.Text(8);
  e.dossier_code = r.Text(9);
  e.request_id = r.Text(10);
  e.tax_code = r.Text(11);
  e.hash = r.Text(12);
  return e;
}

}  // namespace

std::optional<Subject> SubjectOf(const http::Principal& who) {
  if (who.role == "citizen") {
    auto id = who.PersonalIdNumber();
    if (!id) return std::nullopt;
    return Subject{*id, ""};
  }
  if (who.role == "organisation" && who.tax_code && !who.tax_code->empty()) return Subject{0, *who.tax_code};
  return std::nullopt;
}

std::vector<storage::Migration> AccessLog::Migrations() {
  return {{710, "data access log",
           "CREATE TABLE data_access_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, personal_id BIGINT NOT NULL, "
           "consumer_agency TEXT NOT NULL, official TEXT NOT NULL, service TEXT NOT NULL, fields TEXT NOT NULL, "
           "purpose TEXT NOT NULL, legal_basis TEXT NOT NULL, dossier_code TEXT NOT NULL, request_id TEXT NOT NULL, "
           "hash TEXT NOT NULL);"
           "CREATE INDEX data_access_log_person ON data_access_log (personal_id, seq);"
           + audit::chain::CreateHeadSql("data_access_head")},
          {712, "reports of unlawful reads",
           "CREATE TABLE data_access_reports (id {{ID}}, seq BIGINT NOT NULL UNIQUE REFERENCES data_access_log(seq), "
           "personal_id BIGINT NOT NULL, reason TEXT NOT NULL, reporter TEXT NOT NULL, created_at BIGINT NOT NULL, "
           "resolution TEXT, resolved_by TEXT, resolved_at BIGINT);"},
          {713, "signed seals of the data access log",
           "CREATE TABLE data_access_seals (upto_seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, sealed_at BIGINT NOT NULL, "
           "key_id TEXT NOT NULL, signature TEXT NOT NULL);"},
          {714, "reads of organisations' data in the data access log",
           "ALTER TABLE data_access_log ADD COLUMN tax_code TEXT NOT NULL DEFAULT '';"
           "CREATE INDEX data_access_log_organisation ON data_access_log (tax_code, seq) WHERE tax_code <> '';"},
          // On SQLite `seq BIGINT PRIMARY KEY` is not the rowid: each entry went into the table and into
          // a separate index on seq, one B-tree insert more on the writer for every official's read.
          // The log is copied once into a table keyed by its rowid. The reports reference it, and SQLite
          // cannot drop a referenced table in a transaction with foreign keys on, so they are set aside
          // and put back, with their AUTOINCREMENT counter.
          {715, "data access log keyed by its rowid",
           "CREATE TABLE data_access_reports_kept AS SELECT * FROM data_access_reports;"
           "CREATE TABLE data_access_reports_counter AS SELECT seq FROM sqlite_sequence "
           "WHERE name = 'data_access_reports';"
           "DROP TABLE data_access_reports;" +
               storage::RebuildTableSql(
                   "data_access_log",
                   "seq INTEGER PRIMARY KEY, at BIGINT NOT NULL, personal_id BIGINT NOT NULL, "
                   "consumer_agency TEXT NOT NULL, official TEXT NOT NULL, service TEXT NOT NULL, "
                   "fields TEXT NOT NULL, purpose TEXT NOT NULL, legal_basis TEXT NOT NULL, "
                   "dossier_code TEXT NOT NULL, request_id TEXT NOT NULL, hash TEXT NOT NULL, "
                   "tax_code TEXT NOT NULL DEFAULT ''",
                   "seq, at, personal_id, consumer_agency, official, service, fields, purpose, legal_basis, "
                   "dossier_code, request_id, hash, tax_code") +
               "CREATE INDEX data_access_log_person ON data_access_log (personal_id, seq);"
               "CREATE INDEX data_access_log_organisation ON data_access_log (tax_code, seq) WHERE tax_code <> '';"
               "CREATE TABLE data_access_reports (id {{ID}}, seq BIGINT NOT NULL UNIQUE "
               "REFERENCES data_access_log(seq), personal_id BIGINT NOT NULL, reason TEXT NOT NULL, "
               "reporter TEXT NOT NULL, created_at BIGINT NOT NULL, resolution TEXT, resolved_by TEXT, "
               "resolved_at BIGINT);"
               "INSERT INTO data_access_reports (id, seq, personal_id, reason, reporter, created_at, resolution, "
               "resolved_by, resolved_at) SELECT id, seq, personal_id, reason, reporter, created_at, resolution, "
               "resolved_by, resolved_at FROM data_access_reports_kept;"
               "DELETE FROM sqlite_sequence WHERE name = 'data_access_reports';"
               "INSERT INTO sqlite_sequence (name, seq) SELECT 'data_access_reports', seq "
               "FROM data_access_reports_counter;"
               "DROP TABLE data_access_reports_kept;"
               "DROP TABLE data_access_reports_counter;",
           storage::Dialect::kSqlite}};
}

namespace {

// An entry to append: the record and the time of its read.
struct Timed {
  const AccessRecord* record;
  int64_t at;
};

// Appends `entries` in order in the caller's transaction: the head moves once for all of them (its
// row lock is taken once) and they go in together (storage::AppendRows).
Status AppendEntries(storage::Session& s, const std::vector<Timed>& entries) {
  const auto n = static_cast<int64_t>(entries.size());
  TL_ASSIGN_OR_RETURN(auto next, audit::chain::Next(s, "data_access_head", n));
  auto [first, hash] = std::move(next);
  int64_t seq = first - 1;
  // On SQLite's group commit the rows go in with the batch's others at its end (storage::AppendRows).
  std::vector<storage::TransactionCache::Row> rows;
  rows.reserve(entries.size());
  for (const auto& [record, at] : entries) {
    const AccessRecord& r = *record;
    ++seq;
    hash = ChainHash(hash, seq, at, r);
    rows.push_back({seq, at, r.personal_id, r.consumer_agency, r.official, r.service, r.fields, r.purpose,
                    r.legal_basis, r.dossier_code, r.request_id, r.tax_code, hash});
  }
  TL_RETURN_IF_ERROR(storage::AppendRows(s, std::string("INSERT INTO data_access_log (") + kColumns + ") VALUES ", 13,
                                         std::move(rows)));
  return audit::chain::SetHead(s, "data_access_head", seq, hash);
}

}  // namespace

Status AccessLog::Record(storage::Session& s, const AccessRecord& r) const {
  return AppendEntries(s, {{&r, clock_->NowMillis()}});
}

// RecordAsync's batches: a queue and the one thread that drains it.
class AccessLog::Appender {
 public:
  static constexpr size_t kMaxBatch = 512;

  explicit Appender(const AccessLog* log)
      : log_(log), thread_([this] {
          NameThisThread("tl-access-log");
          Run();
        }) {}
  ~Appender() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();  // Run() drains the queue before it returns
  }

  void Add(AccessRecord r, int64_t at, std::function<void(Status)> done) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(r), at, std::move(done)});
    }
    cv_.notify_one();
  }

 private:
  struct Pending {
    AccessRecord record;
    int64_t at = 0;
    std::function<void(Status)> done;
  };

  void Run() {
    std::vector<Pending> batch;
    while (true) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left
        while (!queue_.empty() && batch.size() < kMaxBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<Timed> entries;
      entries.reserve(batch.size());
      for (const auto& p : batch) entries.push_back({&p.record, p.at});
      Status st = log_->db_->Write([&](storage::Session& s) { return AppendEntries(s, entries); });
      for (auto& p : batch) p.done(st);
      batch.clear();
    }
  }

  const AccessLog* log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

AccessLog::AccessLog(storage::Database* db, const Clock* clock, const audit::AuditLog* audit)
    : db_(db), clock_(clock), audit_(audit) {}

AccessLog::~AccessLog() {
  std::lock_guard lock(appender_mu_);
  appender_.reset();  // appends what is queued, then stops
}

void AccessLog::RecordAsync(AccessRecord r, std::function<void(Status)> done) const {
  const int64_t at = clock_->NowMillis();
  {
    std::lock_guard lock(appender_mu_);
    if (!appender_) appender_ = std::make_unique<Appender>(this);
  }
  appender_->Add(std::move(r), at, std::move(done));
}

Result<std::vector<StoredAccess>> AccessLog::ForPerson(int64_t personal_id, int64_t before_seq, int limit) const {
  std::vector<StoredAccess> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns +
                                             " FROM data_access_log WHERE personal_id = ? AND seq < ? "
                                             "ORDER BY seq DESC LIMIT ?",
                                         {personal_id, before_seq > 0 ? before_seq : INT64_MAX, int64_t{limit}}));
    for (const auto& r : rs.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<StoredAccess>> AccessLog::ForOrganisation(const std::string& tax_code, int64_t before_seq,
                                                             int limit) const {
  std::vector<StoredAccess> out;
  if (tax_code.empty()) return out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns +
                                             " FROM data_access_log WHERE tax_code = ? AND tax_code <> '' AND seq < ? "
                                             "ORDER BY seq DESC LIMIT ?",
                                         {tax_code, before_seq > 0 ? before_seq : INT64_MAX, int64_t{limit}}));
    for (const auto& r : rs.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<StoredAccess>> AccessLog::ForSubject(const Subject& subject, int64_t before_seq, int limit) const {
  if (subject.IsOrganisation()) return ForOrganisation(subject.tax_code, before_seq, limit);
  return ForPerson(subject.personal_id, before_seq, limit);
}

Result<int64_t> AccessLog::Seal() const {
  if (!signer_) return FailedPrecondition("no signer for the data access log's seals");
  int64_t sealed = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto head, audit::chain::Head(s, "data_access_head"));
    const int64_t seq = head.first;
    if (seq == 0) return Status::Ok();
    TL_ASSIGN_OR_RETURN(auto last, s.Query("SELECT MAX(upto_seq) FROM data_access_seals"));
    if (!last.empty() && last.rows[0].Int(0) >= seq) return Status::Ok();
    int64_t at = clock_->NowMillis();
    const std::string& hash = head.second;
    TL_ASSIGN_OR_RETURN(auto signed_by, signer_->Sign(s, SealText(seq, hash, at)));
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO data_access_seals (upto_seq, hash, sealed_at, key_id, signature) "
                                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (upto_seq) DO NOTHING",
                                       {seq, hash, at, signed_by.first, signed_by.second}));
    if (n == 1) sealed = seq;
    return Status::Ok();
  }));
  return sealed;
}

void AccessLog::StartSealer(std::chrono::milliseconds interval, std::function<void(const Status&)> on_error) {
  sealer_.Start(
      interval,
      [this, on_error = std::move(on_error)] {
        auto sealed = Seal();
        if (!sealed.ok() && on_error) on_error(sealed.status());
      },
      /*background=*/false, "tl-log-sealer");
}

Result<LogVerifyReport> AccessLog::Verify() const {
  LogVerifyReport report;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(static_cast<audit::VerifyReport&>(report),
                        audit::chain::Verify(s, "data_access_head",
                                             std::string("SELECT ") + kColumns + " FROM data_access_log",
                                             [](const storage::Row& row, const std::string& prev) {
                                               StoredAccess e = FromRow(row);
                                               return ChainHash(prev, e.seq, e.at_ms, e);
                                             }));
    if (!signer_) return Status::Ok();
    // Each seal must name an entry that is there, with the hash it had, under a valid signature.
    TL_ASSIGN_OR_RETURN(auto seals, s.Query("SELECT s.upto_seq, s.hash, s.sealed_at, s.key_id, s.signature, l.hash "
                                            "FROM data_access_seals s LEFT JOIN data_access_log l ON l.seq = s.upto_seq "
                                            "ORDER BY s.upto_seq"));
    for (const auto& r : seals.rows) {
      int64_t seq = r.Int(0);
      auto fail = [&](std::string problem) {
        if (report.intact || seq < report.first_bad_seq) {
          report.first_bad_seq = seq;
          report.problem = std::move(problem);
        }
        report.intact = false;
      };
      report.seals++;
      TL_ASSIGN_OR_RETURN(bool signed_ok, signer_->Verify(s, r.Text(3), SealText(seq, r.Text(1), r.Int(2)), r.Text(4)));
      if (!signed_ok) {
        fail("the seal of entry " + std::to_string(seq) + " does not carry a valid platform signature");
      } else if (r.IsNull(5)) {
        fail("entry " + std::to_string(seq) + " was sealed but is missing");
      } else if (r.Text(5) != r.Text(1)) {
        fail("entry " + std::to_string(seq) + " differs from its sealed hash: the chain was rewritten");
      } else {
        report.sealed_upto = seq;
      }
    }
    return Status::Ok();
  }));
  return report;
}

Result<int64_t> AccessLog::Report(const Subject& subject, int64_t seq, const std::string& reason,
                                  const std::string& reporter) const {
  int64_t id = 0;
  const int64_t personal_id = subject.IsOrganisation() ? 0 : subject.personal_id;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT personal_id, tax_code FROM data_access_log WHERE seq = ?", {seq}));
    // Someone else's entry and a missing one answer alike. An organisation's entries carry its tax code
    // (and personal id 0); a person's an empty tax code.
    bool own = !rs.empty() && (subject.IsOrganisation()
                                   ? rs.rows[0].Text(1) == subject.tax_code
                                   : rs.rows[0].Text(1).empty() && personal_id != 0 && rs.rows[0].Int(0) == personal_id);
    if (!own) return NotFound("no such read of your data");
    TL_ASSIGN_OR_RETURN(auto dup, s.Query("SELECT id FROM data_access_reports WHERE seq = ?", {seq}));
    if (!dup.empty()) return AlreadyExists("you already reported this read", "seq");
    TL_ASSIGN_OR_RETURN(auto ins, s.Query("INSERT INTO data_access_reports (seq, personal_id, reason, reporter, created_at) "
                                          "VALUES (?, ?, ?, ?, ?) RETURNING id",
                                          {seq, personal_id, reason, reporter, clock_->NowMillis()}));
    id = ins.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return id;
}

Result<nlohmann::json> AccessLog::Reports() const {
  nlohmann::json items = nlohmann::json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT r.id, r.seq, r.reason, r.created_at, r.resolution, r.resolved_by, "
                                         "l.consumer_agency, l.official, l.purpose, l.at, r.reporter, l.tax_code FROM "
                                         "data_access_reports r JOIN data_access_log l ON l.seq = r.seq "
                                         "ORDER BY CASE WHEN r.resolved_at IS NULL THEN 0 ELSE 1 END, r.id LIMIT 500"));
    for (const auto& r : rs.rows) {
      items.push_back(nlohmann::json{{"id", r.Int(0)},
                                     {"seq", r.Int(1)},
                                     {"reason", r.Text(2)},
                                     {"reported_at", FormatRfc3339(r.Int(3))},
                                     {"status", r.IsNull(4) ? "open" : "resolved"},
                                     {"resolution", r.IsNull(4) ? nlohmann::json(nullptr) : nlohmann::json(r.Text(4))},
                                     {"resolved_by", r.IsNull(5) ? nlohmann::json(nullptr) : nlohmann::json(r.Text(5))},
                                     {"read_by_agency", r.Text(6)},
                                     {"read_by_official", r.Text(7)},
                                     {"read_purpose", r.Text(8)},
                                     {"read_at", FormatRfc3339(r.Int(9))},
                                     {"reporter", r.Text(10)},
                                     {"subject", r.Text(11).empty() ? "person" : "organisation"},
                                     {"tax_code", r.Text(11).empty() ? nlohmann::json(nullptr) : nlohmann::json(r.Text(11))}});
    }
    return Status::Ok();
  }));
  return nlohmann::json{{"items", std::move(items)}};
}

Status AccessLog::Resolve(int64_t report_id, const std::string& resolution, const audit::Entry& ctx) const {
  return db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE data_access_reports SET resolution = ?, resolved_by = ?, resolved_at = ? "
                                       "WHERE id = ? AND resolved_at IS NULL",
                                       {resolution, ctx.actor, clock_->NowMillis(), report_id}));
    if (n != 1) return NotFound("no such open report");
    if (!audit_) return Status::Ok();
    audit::Entry e = ctx;
    e.action = "exchange.report.resolve";
    e.resource = "data_access_report:" + std::to_string(report_id);
    return audit_->Append(s, e);
  });
}

std::vector<http::Route> ReportRoutes(AccessLog* log) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  auto number = [](const std::string& text, const char* field) -> Result<int64_t> {
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v <= 0) return InvalidArgument("must be a number", field);
    return static_cast<int64_t>(v);
  };
  r.push_back({Method::kPost, "/api/v1/me/data-access-log/{seq}/report", Access::Roles({"citizen", "organisation"}),
               [log, number](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int64_t seq, number(req.Param("seq"), "seq"));
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"reason"}));
                 TL_ASSIGN_OR_RETURN(auto reason, body.String("reason", 2000));
                 if (text::CodePointCount(reason) < 5) return InvalidArgument("say why (5+ characters)", "reason");
                 auto own = SubjectOf(*req.principal);
                 if (!own) return NotFound("no such read of your data");
                 TL_ASSIGN_OR_RETURN(int64_t id, log->Report(*own, seq, reason, req.principal->username));
                 return http::Response::Json(201, nlohmann::json{{"id", id}, {"status", "open"}}.dump());
               },
               {"Report a read of your data (a citizen's registry record, or an organisation account's record "
                "under its tax code) you think unlawful; it goes to the city admins' queue",
                "registry",
                {{"seq", "path", "The read's seq in your data access log"}},
                R"({"type":"object","required":["reason"],"properties":{"reason":{"type":"string"}}})",
                R"({"type":"object","properties":{"id":{"type":"integer"},"status":{"type":"string"}}})", 201}});
  r.push_back({Method::kGet, "/api/v1/exchange/reports", Access::Roles({"city_admin"}),
               [log](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, log->Reports());
                 return http::Response::Json(200, j.dump());
               },
               {"Citizens' and organisations' reports of unlawful reads: open ones first", "exchange", {}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kPost, "/api/v1/exchange/reports/{id}/resolve", Access::Roles({"city_admin"}),
               [log, number](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int64_t id, number(req.Param("id"), "id"));
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"resolution"}));
                 TL_ASSIGN_OR_RETURN(auto resolution, body.String("resolution", 2000));
                 if (text::CodePointCount(resolution) < 5) return InvalidArgument("say what was found and done", "resolution");
                 TL_RETURN_IF_ERROR(log->Resolve(id, resolution, audit::EntryFor(req, "", "")));
                 return http::Response::NoContent();
               },
               {"Close a report with what was found and done", "exchange", {{"id", "path", "Report id"}},
                R"({"type":"object","required":["resolution"],"properties":{"resolution":{"type":"string"}}})", ""}});
  return r;
}

}  // namespace tl::exchange
