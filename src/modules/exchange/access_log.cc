#include "modules/exchange/access_log.h"

#include "core/crypto.h"

namespace tl::exchange {
namespace {

constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kColumns[] =
    "seq, at, personal_id, consumer_agency, official, service, fields, purpose, legal_basis, dossier_code, "
    "request_id, hash";

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
  return crypto::Sha256Hex(material);
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
  e.hash = r.Text(11);
  return e;
}

}  // namespace

std::vector<storage::Migration> AccessLog::Migrations() {
  return {{710, "data access log",
           "CREATE TABLE data_access_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, personal_id BIGINT NOT NULL, "
           "consumer_agency TEXT NOT NULL, official TEXT NOT NULL, service TEXT NOT NULL, fields TEXT NOT NULL, "
           "purpose TEXT NOT NULL, legal_basis TEXT NOT NULL, dossier_code TEXT NOT NULL, request_id TEXT NOT NULL, "
           "hash TEXT NOT NULL);"
           "CREATE INDEX data_access_log_person ON data_access_log (personal_id, seq);"
           "CREATE TABLE data_access_head (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL);"
           "INSERT INTO data_access_head (id, last_seq, last_hash) VALUES (1, 0, '" +
               std::string(kGenesis) + "');"}};
}

Status AccessLog::Record(storage::Session& s, const AccessRecord& r) const {
  TL_ASSIGN_OR_RETURN(auto head, s.Query("UPDATE data_access_head SET last_seq = last_seq + 1 WHERE id = 1 "
                                         "RETURNING last_seq, last_hash"));
  if (head.empty()) return Internal("data access log head row is missing");
  int64_t seq = head.rows[0].Int(0);
  int64_t at = clock_->NowMillis();
  std::string hash = ChainHash(head.rows[0].Text(1), seq, at, r);
  TL_ASSIGN_OR_RETURN(auto n, s.Exec(std::string("INSERT INTO data_access_log (") + kColumns +
                                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                     {seq, at, r.personal_id, r.consumer_agency, r.official, r.service, r.fields,
                                      r.purpose, r.legal_basis, r.dossier_code, r.request_id, hash}));
  (void)n;
  TL_ASSIGN_OR_RETURN(auto m, s.Exec("UPDATE data_access_head SET last_hash = ? WHERE id = 1", {hash}));
  (void)m;
  return Status::Ok();
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

Result<LogVerifyReport> AccessLog::Verify() const {
  LogVerifyReport report;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto head, s.Query("SELECT last_seq, last_hash FROM data_access_head WHERE id = 1"));
    if (head.empty()) {
      report.intact = false;
      report.problem = "the log's head row is missing";
      return Status::Ok();
    }
    std::string prev = kGenesis;
    int64_t expected = 1;
    const int64_t kPage = 5000;
    while (true) {
      TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns +
                                               " FROM data_access_log WHERE seq >= ? ORDER BY seq LIMIT ?",
                                           {expected, kPage}));
      for (const auto& row : rs.rows) {
        StoredAccess e = FromRow(row);
        if (e.seq != expected) {
          report.intact = false;
          report.first_bad_seq = expected;
          report.problem = "entry " + std::to_string(expected) + " is missing (deleted)";
          return Status::Ok();
        }
        if (ChainHash(prev, e.seq, e.at_ms, e) != e.hash) {
          report.intact = false;
          report.first_bad_seq = e.seq;
          report.problem = "entry " + std::to_string(e.seq) + " was altered (hash mismatch)";
          return Status::Ok();
        }
        prev = e.hash;
        ++expected;
        ++report.entries;
      }
      if (static_cast<int64_t>(rs.rows.size()) < kPage) break;
    }
    if (head.rows[0].Int(0) != report.entries || head.rows[0].Text(1) != prev) {
      report.intact = false;
      report.first_bad_seq = report.entries + 1;
      report.problem = "the log ends at entry " + std::to_string(report.entries) + " but the head records " +
                       std::to_string(head.rows[0].Int(0)) + " entries (tail deleted or head altered)";
    }
    return Status::Ok();
  }));
  return report;
}

}  // namespace tl::exchange
