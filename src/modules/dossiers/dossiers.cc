#include "modules/dossiers/dossiers.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "core/crypto.h"
#include "core/file_type.h"
#include "core/json_writer.h"
#include "core/personal_id.h"
#include "core/text.h"
#include "modules/dossiers/daily_counts.h"

namespace tl::dossiers {
namespace {

using nlohmann::json;

using daily::kDayMs;
using daily::kHanoiOffsetMs;
constexpr int64_t kNoDue = 9'000'000'000'000'000;  // sorts after every real due time

// A dossier's timeline, its events' columns in the order Render reads them.
constexpr const char* kTimelineSql =
    "SELECT seq, action, from_status, to_status, actor, actor_role, agency, at, note, detail FROM dossier_events "
    "WHERE dossier_code = ? ORDER BY seq";

constexpr const char* kColumns =
    "code, procedure_code, procedure_name, receiving_agency, competent_agency, handling_agency, unit_code, channel, "
    "delivery, status, version, applicant_user_id, applicant_name, applicant_id_number, applicant_phone, "
    "applicant_email, applicant_address, form, components, assignee, working_days, submitted_at, received_at, "
    "due_at, paused_at, finished_at, returned_at, on_time, apologies, rating, updated_at, reused_documents";
enum Col {
  kCode, kProcCode, kProcName, kReceiving, kCompetent, kHandling, kUnit, kChannel, kDelivery, kStatus, kVersion,
  kApplicantUser, kApplicantName, kApplicantId, kApplicantPhone, kApplicantEmail, kApplicantAddress, kForm,
  kComponents, kAssignee, kWorkingDays, kSubmittedAt, kReceivedAt, kDueAt, kPausedAt, kFinishedAt, kReturnedAt,
  kOnTime, kApologies, kRating, kUpdatedAt, kReusedDocuments
};

// The columns a submission's INSERT names, in the order of its values.
constexpr const char* kSubmitColumns =
    "code, procedure_code, procedure_name, receiving_agency, competent_agency, handling_agency, unit_code, channel, "
    "delivery, status, version, applicant_user_id, applicant_name, applicant_name_folded, applicant_id_number, "
    "applicant_phone, applicant_email, applicant_address, form, components, working_days, submitted_at, "
    "received_at, due_at, queue_key, updated_at, reused_documents";

// The submission's INSERT, made once: one placeholder for each of kSubmitColumns.
const std::string& SubmitInsertSql() {
  static const std::string sql = [] {
    std::string placeholders;
    for (size_t i = 0; i < text::Split(kSubmitColumns).size(); ++i) placeholders += i ? ", ?" : "?";
    return std::string("INSERT INTO dossiers (") + kSubmitColumns + ") VALUES (" + placeholders + ")";
  }();
  return sql;
}

// The row (kColumns) a submission's INSERT of `values` (kSubmitColumns) leaves, as a read would give
// it: the values as text (a double as text that reads back as the same double, which is all
// storage::Row::Double needs), and the columns the INSERT does not name at their defaults.
storage::Row InsertedRow(const std::vector<storage::Value>& values) {
  // For each of kColumns, its place among kSubmitColumns, or -1.
  static const std::vector<int> kPlaces = [] {
    std::vector<std::string> inserted = text::Split(kSubmitColumns);
    for (auto& c : inserted) c = std::string(text::Trim(c));
    std::vector<int> places;
    for (std::string c : text::Split(kColumns)) {
      auto at = std::find(inserted.begin(), inserted.end(), text::Trim(c));
      places.push_back(at == inserted.end() ? -1 : static_cast<int>(at - inserted.begin()));
    }
    return places;
  }();
  std::vector<std::optional<std::string>> row;
  row.reserve(kPlaces.size());
  for (size_t col = 0; col < kPlaces.size(); ++col) {
    if (kPlaces[col] < 0) {  // assignee, paused_at ... rating: NULL, but apologies (DEFAULT 0)
      row.push_back(col == kApologies ? std::optional<std::string>("0") : std::nullopt);
      continue;
    }
    const storage::Value& value = values.at(static_cast<size_t>(kPlaces[col]));
    if (const auto* t = std::get_if<std::string>(&value)) {
      row.emplace_back(*t);
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      row.emplace_back(std::to_string(*i));
    } else if (const auto* d = std::get_if<double>(&value)) {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
      (void)ec;
      row.emplace_back(std::string(buf, end));
    } else {
      row.emplace_back(std::nullopt);
    }
  }
  return storage::Row(std::move(row));
}

json OptTime(const storage::Row& r, int col) {
  return r.IsNull(col) ? json(nullptr) : json(FormatRfc3339(r.Int(col)));
}
json OptText(const storage::Row& r, int col) { return r.IsNull(col) ? json(nullptr) : json(r.Text(col)); }

// A dossier's reference to a wallet document, as recorded at submission.
constexpr const char* kWalletRefColumns =
    "component, document_id, document_type, title, number, issuer_agency, issued_on";
json WalletRefJson(const std::string& code, const storage::Row& w) {
  return {{"component", w.Text(0)},
          {"document_id", w.Text(1)},
          {"type", w.Text(2)},
          {"title", w.Text(3)},
          {"number", w.Text(4)},
          {"issuer_agency", w.Text(5)},
          {"issued_on", w.Text(6)},
          {"url", "/api/v1/dossiers/" + code + "/wallet-documents/" + w.Text(1)}};
}

// "UBND00004-261122-0001": the receiving agency, the Hà Nội date, the sequence of the day.
std::string HanoiYymmdd(int64_t ms) {
  std::string d = FormatDate(ms + kHanoiOffsetMs);  // YYYY-MM-DD
  return d.substr(2, 2) + d.substr(5, 2) + d.substr(8, 2);
}

// Working days of a procedure for a channel; hours and months converted; unknown: 10 working days.
double WorkingDaysFor(const json& procedure, const std::string& channel) {
  std::string wanted = channel == "online" ? "online" : (channel == "postal" ? "postal" : "in_person");
  const json processing = procedure.value("processing", json::array());
  const json* chosen = nullptr;
  for (const auto& p : processing) {
    if (p.value("channel", "") == wanted) chosen = &p;
  }
  if (!chosen) {
    for (const auto& p : processing) {
      if (p.value("channel", "") == "in_person") chosen = &p;
    }
  }
  if (!chosen || !(*chosen)["duration"].is_number()) return 10;
  double d = (*chosen)["duration"].get<double>();
  std::string unit = (*chosen)["unit"].is_string() ? (*chosen)["unit"].get<std::string>() : "working_day";
  if (unit == "hour") return d / 8.0;
  if (unit == "month") return d * 22.0;
  return d;  // working days; "day" in the catalogue is read as working days, as the portals do
}

Status RequireText(const std::string& value, const char* field) {
  if (text::Trim(value).empty()) return InvalidArgument("is required", field);
  return Status::Ok();
}

}  // namespace

Result<RoutingRules> RoutingRules::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read routing rules at " + path);
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("routing rules are not a JSON object", path);
  RoutingRules r;
  r.receiving_agency = j.value("receiving_agency", r.receiving_agency);
  r.default_handling_agency = j.value("default_handling_agency", r.default_handling_agency);
  const json sectors = j.value("sectors", json::object());
  for (const auto& [sector, agency] : sectors.items()) {
    if (!agency.is_string()) return InvalidArgument("the agency of sector " + sector + " must be a code", path);
    r.sector_agency[sector] = agency.get<std::string>();
  }
  return r;
}

std::vector<storage::Migration> DossierService::Migrations() {
  return {{500, "one-stop shop dossiers",
           "CREATE TABLE dossiers (code TEXT PRIMARY KEY, procedure_code TEXT NOT NULL, procedure_name TEXT NOT NULL, "
           "receiving_agency TEXT NOT NULL REFERENCES agencies(code), competent_agency TEXT NOT NULL REFERENCES agencies(code), "
           "handling_agency TEXT NOT NULL REFERENCES agencies(code), unit_code TEXT NOT NULL, channel TEXT NOT NULL, "
           "delivery TEXT NOT NULL, status TEXT NOT NULL, version BIGINT NOT NULL, applicant_user_id BIGINT, "
           "applicant_name TEXT NOT NULL, applicant_name_folded TEXT NOT NULL, applicant_id_number TEXT, "
           "applicant_phone TEXT, applicant_email TEXT, applicant_address TEXT NOT NULL, form TEXT NOT NULL, "
           "components TEXT NOT NULL, assignee TEXT, working_days DOUBLE PRECISION NOT NULL, submitted_at BIGINT NOT NULL, "
           "received_at BIGINT, due_at BIGINT, paused_at BIGINT, finished_at BIGINT, returned_at BIGINT, on_time INTEGER, "
           "apologies INTEGER NOT NULL DEFAULT 0, rating INTEGER, queue_key BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
           "CREATE INDEX dossiers_handling ON dossiers (handling_agency, queue_key, code);"
           "CREATE INDEX dossiers_receiving ON dossiers (receiving_agency, status, queue_key);"
           "CREATE INDEX dossiers_assignee ON dossiers (assignee, queue_key, code);"
           "CREATE INDEX dossiers_applicant ON dossiers (applicant_user_id, submitted_at);"
           "CREATE INDEX dossiers_unit_time ON dossiers (unit_code, submitted_at);"
           "CREATE INDEX dossiers_status ON dossiers (status);"
           "CREATE TABLE dossier_events (dossier_code TEXT NOT NULL REFERENCES dossiers(code), seq INTEGER NOT NULL, "
           "action TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL, "
           "agency TEXT, at BIGINT NOT NULL, note TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (dossier_code, seq));"
           "CREATE TABLE dossier_sequences (agency_code TEXT NOT NULL, day TEXT NOT NULL, last_value BIGINT NOT NULL, "
           "PRIMARY KEY (agency_code, day));"
           "CREATE TABLE notifications (id {{ID}}, user_id BIGINT NOT NULL, dossier_code TEXT, kind TEXT NOT NULL, "
           "title TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, read_at BIGINT);"
           "CREATE INDEX notifications_user ON notifications (user_id, id);"
           "CREATE TABLE public_lookup_throttle (throttle_key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, "
           "failures INTEGER NOT NULL);"},
          {501, "dossier attachments",
           "CREATE TABLE dossier_files (sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, size BIGINT NOT NULL, "
           "data {{BLOB}} NOT NULL, created_at BIGINT NOT NULL);"
           "CREATE TABLE dossier_file_owners (sha256 TEXT NOT NULL REFERENCES dossier_files(sha256), "
           "user_id BIGINT NOT NULL, PRIMARY KEY (sha256, user_id));"
           "CREATE TABLE dossier_attachments (dossier_code TEXT NOT NULL REFERENCES dossiers(code), "
           "sha256 TEXT NOT NULL REFERENCES dossier_files(sha256), name TEXT NOT NULL, PRIMARY KEY (dossier_code, sha256));"
           "CREATE INDEX dossier_attachments_file ON dossier_attachments (sha256);"},
          {502, "daily counts behind the service index, and open dossiers by submission time",
           "CREATE TABLE dossier_daily_counts (unit_code TEXT NOT NULL, day BIGINT NOT NULL, received BIGINT NOT NULL, "
           "online BIGINT NOT NULL, resolved BIGINT NOT NULL, resolved_on_time BIGINT NOT NULL, "
           "online_resolved BIGINT NOT NULL, online_result BIGINT NOT NULL, with_components BIGINT NOT NULL, "
           "rated BIGINT NOT NULL, satisfied BIGINT NOT NULL, apologised BIGINT NOT NULL, PRIMARY KEY (unit_code, day));"
           "CREATE INDEX dossier_daily_counts_day ON dossier_daily_counts (day);"
           "CREATE INDEX dossiers_open ON dossiers (submitted_at) WHERE finished_at IS NULL;" +
               daily::RebuildSqlV502() + ";"},
          {503, "once-only: components satisfied by documents of the applicant's wallet, and their count",
           "CREATE TABLE dossier_wallet_documents (dossier_code TEXT NOT NULL REFERENCES dossiers(code), "
           "component TEXT NOT NULL, document_id TEXT NOT NULL, document_type TEXT NOT NULL, title TEXT NOT NULL, "
           "number TEXT NOT NULL, issuer_agency TEXT NOT NULL, issued_on TEXT NOT NULL, PRIMARY KEY (dossier_code, "
           "component));"
           "CREATE INDEX dossier_wallet_documents_document ON dossier_wallet_documents (document_id);"
           "ALTER TABLE dossiers ADD COLUMN reused_documents INTEGER NOT NULL DEFAULT 0;"
           "ALTER TABLE dossier_daily_counts ADD COLUMN reusing BIGINT NOT NULL DEFAULT 0;"},
          // On SQLite {{ID}} is AUTOINCREMENT, which rewrites the table's row in sqlite_sequence on
          // every insert: one B-tree write more for each notification, which almost every dossier
          // action adds. Notifications are never deleted, so the rowid's own max + 1 gives the same
          // numbers. The table is copied once.
          {504, "notifications numbered by their rowid",
           storage::RebuildTableSql("notifications",
                                    "id INTEGER PRIMARY KEY, user_id BIGINT NOT NULL, dossier_code TEXT, "
                                    "kind TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                                    "created_at BIGINT NOT NULL, read_at BIGINT",
                                    "id, user_id, dossier_code, kind, title, body, created_at, read_at") +
               "CREATE INDEX notifications_user ON notifications (user_id, id);",
           storage::Dialect::kSqlite}};
}

namespace {
daily::Facts FactsOf(const storage::Row& r) {
  daily::Facts f;
  f.channel = r.Text(kChannel);
  f.delivery = r.Text(kDelivery);
  f.status = r.Text(kStatus);
  f.finished = !r.IsNull(kFinishedAt);
  if (!r.IsNull(kOnTime)) f.on_time = r.Int(kOnTime);
  f.has_components = r.Text(kComponents) != "[]";
  if (!r.IsNull(kRating)) f.rating = r.Int(kRating);
  f.apologies = r.Int(kApologies);
  f.reusing = r.Int(kReusedDocuments) > 0;
  return f;
}
}  // namespace

Result<std::vector<std::string>> DossierService::Routing(const json& procedure, const std::optional<std::string>& unit,
                                                         const http::Principal& who, const std::string& channel) {
  // Returns {receiving, competent, unit}.
  std::vector<std::string> levels = procedure.value("levels", std::vector<std::string>{});
  bool commune = std::find(levels.begin(), levels.end(), "commune") != levels.end();
  bool province = std::find(levels.begin(), levels.end(), "province") != levels.end();
  std::string receiving;
  if (channel != "online") {
    if (!who.agency) return PermissionDenied("only an official of a receiving agency records desk submissions");
    receiving = *who.agency;
  }
  std::optional<std::string> chosen = unit;
  if (!chosen && commune && channel != "online" && who.agency) {
    // A desk officer of a commune records for their own commune unless they say otherwise.
    auto agency = units_->GetAgency(*who.agency);
    if (agency.ok() && agency->kind == "commune_committee") chosen = agency->unit_code;
  }
  if (commune && (chosen || !province)) {
    if (!chosen) return InvalidArgument("choose the commune or ward that will handle the dossier", "unit_code");
    const std::string* unit_ptr = &*chosen;
    TL_ASSIGN_OR_RETURN(auto agencies, units_->ListAgencies(*unit_ptr, std::string("commune_committee")));
    if (agencies.empty()) return InvalidArgument("no commune of the city has this code", "unit_code");
    std::string competent = agencies[0].code;
    if (receiving.empty()) receiving = competent;
    return std::vector<std::string>{receiving, competent, *unit_ptr};
  }
  std::string sector = procedure.value("sector", "");
  auto it = routing_.sector_agency.find(sector);
  std::string competent = it == routing_.sector_agency.end() ? routing_.default_handling_agency : it->second;
  if (receiving.empty()) receiving = routing_.receiving_agency;
  return std::vector<std::string>{receiving, competent, units_->city_code()};
}

Result<json> DossierService::Submit(const http::Principal& who, const SubmitRequest& req, const audit::Entry& ctx) {
  TL_ASSIGN_OR_RETURN(DossierRows view, SubmitRows(who, req, ctx));
  return Render(who, view);
}

Result<DossierService::Submitted> DossierService::SubmitText(const http::Principal& who, const SubmitRequest& req,
                                                             const audit::Entry& ctx) {
  TL_ASSIGN_OR_RETURN(DossierRows view, SubmitRows(who, req, ctx));
  return Submitted{view.dossier->Text(kCode), RenderText(who, view)};
}

Result<DossierService::DossierRows> DossierService::SubmitRows(const http::Principal& who, const SubmitRequest& req,
                                                               const audit::Entry& ctx) {
  bool applicant_self = who.role == "citizen" || who.role == "organisation";
  bool desk = who.role == "desk_officer";
  if (!applicant_self && !desk) return PermissionDenied("citizens, organisations and desk officers submit dossiers");
  std::string channel = req.channel.empty() ? (applicant_self ? "online" : "desk") : req.channel;
  if (applicant_self && channel != "online") return InvalidArgument("applicants submit online", "channel");
  if (desk && channel != "desk" && channel != "postal") {
    return InvalidArgument("a desk officer records desk or postal submissions", "channel");
  }
  std::string delivery = req.delivery.empty() ? (channel == "online" ? "online" : "desk") : req.delivery;
  if (delivery != "desk" && delivery != "online" && delivery != "post") {
    return InvalidArgument("must be desk, online or post", "delivery");
  }
  TL_RETURN_IF_ERROR(RequireText(req.procedure_code, "procedure_code"));
  TL_RETURN_IF_ERROR(RequireText(req.applicant.full_name, "applicant.full_name"));
  if (!req.applicant.phone && !req.applicant.email) {
    return InvalidArgument("give a phone number or an e-mail address to be reached at", "applicant.phone");
  }
  if (req.applicant.phone) TL_RETURN_IF_ERROR(ValidatePhone(*req.applicant.phone, "applicant.phone"));
  if (req.applicant.email && req.applicant.email->find('@') == std::string::npos) {
    return InvalidArgument("is not an e-mail address", "applicant.email");
  }
  int year = std::stoi(FormatDate(clock_->NowMillis()).substr(0, 4));
  if (req.applicant.personal_id) {
    TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(*req.applicant.personal_id, year, "applicant.personal_id"));
    (void)info;
  }
  if (req.applicant.tax_code) TL_RETURN_IF_ERROR(ValidateTaxCode(*req.applicant.tax_code, "applicant.tax_code"));
  if (req.components.size() > 50) return InvalidArgument("at most 50 components", "components");
  if (req.attachments.size() > 30) return InvalidArgument("at most 30 attachments", "attachments");
  if (req.wallet_documents.size() > 30) return InvalidArgument("at most 30 wallet documents", "wallet_documents");

  auto proc_text = procedures_->GetJson(req.procedure_code, std::nullopt);
  if (!proc_text.ok()) {
    if (proc_text.status().code() == StatusCode::kNotFound) {
      return InvalidArgument("no procedure with this code", "procedure_code");
    }
    return proc_text.status();
  }
  json procedure = json::parse(*proc_text);
  if (channel == "online") {
    bool offered = false;
    for (const auto& p : procedure.value("processing", json::array())) offered = offered || p.value("channel", "") == "online";
    if (!offered) {
      return FailedPrecondition("this procedure is not offered online; submit it at a one-stop-shop desk or by post");
    }
  }
  TL_ASSIGN_OR_RETURN(auto route, Routing(procedure, req.unit_code, who, channel));
  const std::string& receiving = route[0];
  const std::string& competent = route[1];
  const std::string& unit = route[2];
  if (desk && !who.CoversAgency(receiving)) return PermissionDenied("you record submissions only for your agency");
  // Once-only: a component taken from the applicant's own wallet counts as handed in. What can be
  // checked without the wallet is checked here; the documents themselves inside the transaction.
  std::vector<std::string> handed_in = req.components;
  if (!req.wallet_documents.empty()) {
    if (!once_only_rules_ || !wallet_) {
      return Status(StatusCode::kFailedPrecondition, "documents of the wallet cannot be referenced on this server",
                    "wallet_documents");
    }
    if (!applicant_self || !who.personal_id) {
      return InvalidArgument("only an applicant with a personal id refers to documents of their own wallet",
                             "wallet_documents");
    }
    TL_ASSIGN_OR_RETURN(auto names, ComponentNames(req.procedure_code, "procedure_code"));
    for (size_t i = 0; i < req.wallet_documents.size(); ++i) {
      const WalletReference& ref = req.wallet_documents[i];
      const std::string field = "wallet_documents." + std::to_string(i) + ".component";
      if (!names.empty() && std::find(names.begin(), names.end(), ref.component) == names.end()) {
        return InvalidArgument("is not a component of this procedure", field);
      }
      if (once_only_rules_->RulesForComponent(ref.component).empty()) {
        return InvalidArgument("no wallet document can stand for this component", field);
      }
      if (std::find(handed_in.begin(), handed_in.end(), ref.component) == handed_in.end()) {
        handed_in.push_back(ref.component);
      }
    }
    if (handed_in.size() > 50) return InvalidArgument("at most 50 components", "components");
  }
  // The procedure's form (its JSON Schema, or the generic default) checks what was filled in.
  json filled = {
      {"applicant", {{"full_name", req.applicant.full_name}}}, {"form", req.form}, {"components", handed_in}};
  if (req.applicant.personal_id) filled["applicant"]["personal_id"] = *req.applicant.personal_id;
  if (req.applicant.tax_code) filled["applicant"]["tax_code"] = *req.applicant.tax_code;
  if (req.applicant.phone) filled["applicant"]["phone"] = *req.applicant.phone;
  if (req.applicant.email) filled["applicant"]["email"] = *req.applicant.email;
  if (!req.applicant.address.empty()) filled["applicant"]["address"] = req.applicant.address;
  TL_RETURN_IF_ERROR(procedures_->ValidateForm(procedure, filled));
  double working_days = WorkingDaysFor(procedure, channel);
  int64_t now = clock_->NowMillis();
  bool received_now = channel != "online";
  std::optional<int64_t> due;
  if (received_now) {
    TL_ASSIGN_OR_RETURN(int64_t d, deadlines_->DueTime(now, working_days));
    due = d;
  }
  std::string status = received_now ? "received" : "submitted";
  json components = handed_in;
  DossierRows view;
  std::optional<int64_t> applicant_user;
  if (applicant_self) applicant_user = who.user_id;
  std::string id_number = req.applicant.personal_id.value_or(req.applicant.tax_code.value_or(""));
  // The day's next number for the receiving agency (the row of dossier_sequences is locked until its
  // transaction commits). On PostgreSQL it is taken in a short transaction of its own, so concurrent
  // submissions to one agency do not queue behind each other's whole submission; a submission
  // refused after that leaves its number unused. SQLite's single writer has nobody to queue behind.
  const std::string day = HanoiYymmdd(now);
  auto next_number = [&](storage::Session& s) -> Result<int64_t> {
    if (db_->dialect() == storage::Dialect::kSqlite) {
      // Read, then write: inside the single writer's transaction nobody comes between, and the two
      // plain statements cost a fifth of the upsert with RETURNING (~25 µs, which SQLite runs through
      // a temporary table).
      TL_ASSIGN_OR_RETURN(
          auto last,
          s.Query("SELECT last_value FROM dossier_sequences WHERE agency_code = ? AND day = ?", {receiving, day}));
      if (last.empty()) {
        TL_ASSIGN_OR_RETURN(
            auto n,
            s.Exec("INSERT INTO dossier_sequences (agency_code, day, last_value) VALUES (?, ?, 1)", {receiving, day}));
        (void)n;
        return int64_t{1};
      }
      const int64_t next = last.rows[0].Int(0) + 1;
      TL_ASSIGN_OR_RETURN(auto n,
                          s.Exec("UPDATE dossier_sequences SET last_value = ? WHERE agency_code = ? AND day = ?",
                                 {next, receiving, day}));
      (void)n;
      return next;
    }
    TL_ASSIGN_OR_RETURN(auto seq, s.Query("INSERT INTO dossier_sequences (agency_code, day, last_value) VALUES (?, ?, 1) "
                                          "ON CONFLICT (agency_code, day) DO UPDATE SET last_value = "
                                          "dossier_sequences.last_value + 1 RETURNING last_value",
                                          {receiving, day}));
    return seq.rows.at(0).Int(0);
  };
  std::optional<int64_t> taken_number;
  if (db_->dialect() == storage::Dialect::kPostgres) {
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(taken_number, next_number(s));
      return Status::Ok();
    }));
  }

  // Rerunnable (storage/database.h): what it leaves for after the commit, `view`, it sets afresh.
  TL_RETURN_IF_ERROR(db_->WriteRerunnable([&](storage::Session& s) -> Status {
    // Each referenced document: the applicant's own (someone else's answers like a missing one), signed
    // and verifying as valid now, of a type that can stand for its component, and in date.
    std::vector<HeldDocument> referenced;
    const std::string today = FormatDate(now + kHanoiOffsetMs);
    for (size_t i = 0; i < req.wallet_documents.size(); ++i) {
      const WalletReference& ref = req.wallet_documents[i];
      const std::string field = "wallet_documents." + std::to_string(i) + ".document_id";
      auto found = wallet_->Find(s, ref.document_id);
      if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
      if (!found.ok() || found->holder != *who.personal_id) {
        return InvalidArgument("no document with this id in your wallet", field);
      }
      auto unprocessable = [&](std::string message) {
        return Status(StatusCode::kFailedPrecondition, std::move(message), field);
      };
      if (found->state == "unverified") {
        return unprocessable("a scan nobody has certified cannot stand for a component; have the copy certified first");
      }
      const DocumentTypeRule* rule = once_only_rules_->RuleOfDocument(found->type);
      if (!rule || !once_only_rules_->Satisfies(ref.component, found->type)) {
        return unprocessable("a document of this type cannot stand for the component " + ref.component);
      }
      if (found->verdict != "valid") {
        return unprocessable("the document does not verify as valid (" + found->verdict + "): " + found->reason);
      }
      if (!found->valid_until.empty() && found->valid_until < today) {
        return unprocessable("the document expired on " + found->valid_until);
      }
      if (!ComponentDocumentRules::WithinValidDays(*rule, found->issued_on, today)) {
        return unprocessable("a " + rule->label_vi + " stands for a component only " +
                             std::to_string(rule->valid_days) + " days after its issue");
      }
      referenced.push_back(*std::move(found));
    }
    int64_t n = 0;
    if (taken_number) {
      n = *taken_number;
    } else {
      TL_ASSIGN_OR_RETURN(n, next_number(s));
    }
    std::string number = std::to_string(n);
    if (number.size() < 4) number = std::string(4 - number.size(), '0') + number;
    std::string code = receiving + "-" + day + "-" + number;
    std::vector<storage::Value> v = {
        code, req.procedure_code, procedure.value("name", ""), receiving, competent, competent, unit, channel, delivery,
        status, int64_t{1},
        applicant_user ? storage::Value(*applicant_user) : storage::Null(), req.applicant.full_name,
        text::FoldForSearch(req.applicant.full_name), id_number.empty() ? storage::Null() : storage::Value(id_number),
        storage::OptText(req.applicant.phone), storage::OptText(req.applicant.email), req.applicant.address,
        req.form.dump(), components.dump(), working_days, now,
        received_now ? storage::Value(now) : storage::Null(), due ? storage::Value(*due) : storage::Null(),
        due.value_or(kNoDue), now, static_cast<int64_t>(referenced.size())};
    TL_ASSIGN_OR_RETURN(auto ins, s.ExecV(SubmitInsertSql(), v));
    (void)ins;
    daily::Facts facts{channel, delivery, status, false, std::nullopt, components != json::array(), std::nullopt, 0};
    facts.reusing = !referenced.empty();
    for (const auto& a : req.attachments) {
      TL_ASSIGN_OR_RETURN(auto own, s.Query("SELECT 1 FROM dossier_file_owners WHERE sha256 = ? AND user_id = ?",
                                            {a.sha256, who.user_id}));
      if (own.empty()) return InvalidArgument("no file " + a.sha256 + " uploaded by you", "attachments");
      TL_ASSIGN_OR_RETURN(auto at, s.Exec("INSERT INTO dossier_attachments (dossier_code, sha256, name) VALUES (?, ?, ?) "
                                          "ON CONFLICT (dossier_code, sha256) DO NOTHING",
                                          {code, a.sha256, a.name}));
      (void)at;
    }
    for (size_t i = 0; i < referenced.size(); ++i) {
      const HeldDocument& d = referenced[i];
      TL_ASSIGN_OR_RETURN(auto w, s.Exec("INSERT INTO dossier_wallet_documents (dossier_code, component, document_id, "
                                         "document_type, title, number, issuer_agency, issued_on) VALUES (?, ?, ?, ?, "
                                         "?, ?, ?, ?)",
                                         {code, req.wallet_documents[i].component, d.id, d.type, d.title, d.number,
                                          d.issuer_agency, d.issued_on}));
      (void)w;
    }
    json detail = {{"channel", channel}, {"working_days", working_days}};
    if (!referenced.empty()) detail["wallet_documents"] = referenced.size();
    if (due) detail["due_at"] = FormatRfc3339(*due);
    TL_ASSIGN_OR_RETURN(auto ev, s.Exec("INSERT INTO dossier_events (dossier_code, seq, action, from_status, to_status, "
                                        "actor, actor_role, agency, at, note, detail) VALUES (?, 1, ?, NULL, ?, ?, ?, ?, ?, "
                                        "'', ?)",
                                        {code, std::string(received_now ? "receive" : "submit"), status, who.username,
                                         applicant_self ? std::string("applicant") : who.role,
                                         storage::OptText(who.agency), now, detail.dump()}));
    (void)ev;
    if (applicant_user) {
      TL_ASSIGN_OR_RETURN(auto nn, s.Exec("INSERT INTO notifications (user_id, dossier_code, kind, title, body, created_at) "
                                          "VALUES (?, ?, 'submit', ?, ?, ?)",
                                          {*applicant_user, code, "Đã nộp hồ sơ " + code,
                                           "Hồ sơ " + procedure.value("name", "") + " đã được nộp trực tuyến và đang chờ "
                                           "tiếp nhận.",
                                           now}));
      (void)nn;
      TL_RETURN_IF_ERROR(MailApplicant(s, req.applicant.email, code, "Đã nộp hồ sơ " + code, "Hồ sơ " +
                                       procedure.value("name", "") + " đã được nộp trực tuyến và đang chờ tiếp nhận."));
    }
    audit::Entry e = ctx;
    e.action = "dossier.submit";
    e.resource = "dossier:" + code;
    json audited = {{"procedure", req.procedure_code}, {"channel", channel}};
    if (!referenced.empty()) {
      json ids = json::array();
      for (const auto& d : referenced) ids.push_back(d.id);
      audited["wallet_documents"] = std::move(ids);
    }
    e.detail = audited.dump();
    // The answer is the row and the first event as inserted, not read back. Attachments and wallet
    // documents are read: their answer joins the stored files.
    view.dossier = InsertedRow(v);
    view.events.rows.clear();
    view.events.rows.emplace_back(std::vector<std::optional<std::string>>{
        "1", std::string(received_now ? "receive" : "submit"), std::nullopt, status, who.username,
        applicant_self ? std::string("applicant") : who.role, who.agency, std::to_string(now), std::string(),
        detail.dump()});
    view.files = {};
    view.wallet_documents = {};
    if (!req.attachments.empty() || !referenced.empty()) TL_RETURN_IF_ERROR(FetchAttachments(s, code, view));
    return AddCountsAndAudit(s, unit, daily::DayOf(now), daily::Of(facts), e);
  }));
  Remember(view, due.value_or(kNoDue));  // the queue_key the INSERT stored
  return view;
}

bool DossierService::MayView(const http::Principal& who, const storage::Row& r) const {
  if (!r.IsNull(kApplicantUser) && r.Int(kApplicantUser) == who.user_id) return true;
  if (!who.IsOfficial() && !who.city_wide) return false;
  return who.CoversAgency(r.Text(kHandling)) || who.CoversAgency(r.Text(kReceiving)) ||
         who.CoversAgency(r.Text(kCompetent));
}

namespace {

// Whether a dossier is late or nearly so: only while its clock runs (open, received with a due time,
// not paused, not finished). One rule for the document, the queue lines and the text answer.
struct Lateness {
  bool overdue = false;
  bool due_soon = false;
};
Lateness LatenessOf(const storage::Row& r, int64_t now, bool open) {
  if (!open || r.IsNull(kDueAt) || !r.IsNull(kPausedAt) || !r.IsNull(kFinishedAt)) return {};
  const int64_t due = r.Int(kDueAt);
  return {now > due, now <= due && due - now < kDayMs};
}

json DossierJson(const storage::Row& r, int64_t now, const LifecycleRules& rules) {
  std::string status = r.Text(kStatus);
  const StateRule* st = rules.State(status);
  bool open = st ? st->open : false;
  json j = {{"code", r.Text(kCode)},
            {"procedure", {{"code", r.Text(kProcCode)}, {"name", r.Text(kProcName)}}},
            {"receiving_agency", r.Text(kReceiving)},
            {"competent_agency", r.Text(kCompetent)},
            {"handling_agency", r.Text(kHandling)},
            {"unit_code", r.Text(kUnit)},
            {"channel", r.Text(kChannel)},
            {"delivery", r.Text(kDelivery)},
            {"status", status},
            {"status_label", st ? st->label_vi : status},
            {"open", open},
            {"version", r.Int(kVersion)},
            {"applicant",
             {{"full_name", r.Text(kApplicantName)},
              {"id_number", OptText(r, kApplicantId)},
              {"phone", OptText(r, kApplicantPhone)},
              {"email", OptText(r, kApplicantEmail)},
              {"address", r.Text(kApplicantAddress)},
              {"account", !r.IsNull(kApplicantUser)}}},
            {"form", json::parse(r.Text(kForm), nullptr, false)},
            {"components", json::parse(r.Text(kComponents), nullptr, false)},
            {"assignee", OptText(r, kAssignee)},
            {"working_days", r.Double(kWorkingDays)},
            {"submitted_at", OptTime(r, kSubmittedAt)},
            {"received_at", OptTime(r, kReceivedAt)},
            {"due_at", OptTime(r, kDueAt)},
            {"paused", !r.IsNull(kPausedAt)},
            {"finished_at", OptTime(r, kFinishedAt)},
            {"returned_at", OptTime(r, kReturnedAt)},
            {"on_time", r.IsNull(kOnTime) ? json(nullptr) : json(r.Int(kOnTime) != 0)},
            {"apologies", r.Int(kApologies)},
            {"rating", r.IsNull(kRating) ? json(nullptr) : json(r.Int(kRating))},
            {"updated_at", OptTime(r, kUpdatedAt)}};
  const Lateness late = LatenessOf(r, now, open);
  j["overdue"] = late.overdue;
  j["due_soon"] = late.due_soon;
  return j;
}

// A queue's line: the fields of DossierJson a list shows, computed alone (not the whole document,
// whose form and components a queue page would parse for every line).
json QueueItemJson(const storage::Row& r, int64_t now, const LifecycleRules& rules) {
  std::string status = r.Text(kStatus);
  const StateRule* st = rules.State(status);
  bool open = st ? st->open : false;
  const Lateness late = LatenessOf(r, now, open);
  return {{"code", r.Text(kCode)},
          {"procedure", {{"code", r.Text(kProcCode)}, {"name", r.Text(kProcName)}}},
          {"status", status},
          {"status_label", st ? st->label_vi : status},
          {"channel", r.Text(kChannel)},
          {"applicant_name", r.Text(kApplicantName)},
          {"handling_agency", r.Text(kHandling)},
          {"assignee", OptText(r, kAssignee)},
          {"submitted_at", OptTime(r, kSubmittedAt)},
          {"due_at", OptTime(r, kDueAt)},
          {"overdue", late.overdue},
          {"due_soon", late.due_soon},
          {"paused", !r.IsNull(kPausedAt)},
          {"version", r.Int(kVersion)}};
}

}  // namespace

Result<json> DossierService::Get(const http::Principal& who, const std::string& code) {
  TL_ASSIGN_OR_RETURN(DossierRows rows, ReadVisible(who, code));
  return Render(who, rows);
}

Result<std::string> DossierService::GetText(const http::Principal& who, const std::string& code) {
  TL_ASSIGN_OR_RETURN(DossierRows rows, ReadVisible(who, code));
  return RenderText(who, rows);
}

Result<DossierService::DossierRows> DossierService::ReadVisible(const http::Principal& who,
                                                                const std::string& code) const {
  DossierRows rows;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status { return Fetch(s, code, rows); }));
  if (!rows.dossier || !MayView(who, *rows.dossier)) return NotFound("no dossier " + code + " that you may see");
  return rows;
}

std::vector<std::string> DossierService::AllowedActions(const http::Principal& who, const storage::Row& r) const {
  std::vector<std::string> allowed;
  bool is_applicant = !r.IsNull(kApplicantUser) && r.Int(kApplicantUser) == who.user_id;
  for (const auto& name : rules_->ActionsFrom(r.Text(kStatus))) {
    const ActionRule* a = rules_->Action(name);
    bool by_role = a->AllowsRole(who.role) &&
                   (who.CoversAgency(r.Text(kHandling)) || (a->desk && who.CoversAgency(r.Text(kReceiving))));
    bool by_applicant = is_applicant && a->AllowsRole("applicant");
    if (by_role || by_applicant) allowed.push_back(name);
  }
  return allowed;
}

Status DossierService::AddCountsAndAudit(storage::Session& s, const std::string& unit, int64_t day,
                                         const daily::Counts& delta, const audit::Entry& entry) const {
  // The counts last: on PostgreSQL their row (one per unit and day, shared by all that unit's writes)
  // stays locked from this statement to the commit.
  TL_RETURN_IF_ERROR(audit_->Append(s, entry));
  return daily::Add(s, unit, day, delta);
}

Status DossierService::Fetch(storage::Session& s, const std::string& code, DossierRows& out) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM dossiers WHERE code = ?", {code}));
  if (rs.empty()) return Status::Ok();
  out.dossier = std::move(rs.rows[0]);
  TL_ASSIGN_OR_RETURN(out.events, s.Query(kTimelineSql, {code}));
  return FetchAttachments(s, code, out);
}

Status DossierService::FetchAttachments(storage::Session& s, const std::string& code, DossierRows& out) const {
  TL_ASSIGN_OR_RETURN(out.files, s.Query("SELECT a.sha256, a.name, f.content_type, f.size FROM dossier_attachments a "
                                         "JOIN dossier_files f ON f.sha256 = a.sha256 WHERE a.dossier_code = ? "
                                         "ORDER BY a.name",
                                         {code}));
  if (out.dossier->Int(kReusedDocuments) > 0) {
    TL_ASSIGN_OR_RETURN(out.wallet_documents, s.Query(std::string("SELECT ") + kWalletRefColumns +
                                                          " FROM dossier_wallet_documents WHERE dossier_code = ? "
                                                          "ORDER BY component",
                                                      {code}));
  }
  return Status::Ok();
}

json DossierService::Render(const http::Principal& who, const DossierRows& rows) const {
  const auto& r = *rows.dossier;
  json out = DossierJson(r, clock_->NowMillis(), *rules_);
  json timeline = json::array();
  for (const auto& e : rows.events.rows) {
    const StateRule* to = rules_->State(e.Text(3));
    timeline.push_back({{"seq", e.Int(0)}, {"action", e.Text(1)}, {"from_status", OptText(e, 2)},
                        {"to_status", e.Text(3)}, {"to_label", to ? to->label_vi : e.Text(3)}, {"actor", e.Text(4)},
                        {"actor_role", e.Text(5)}, {"agency", OptText(e, 6)}, {"at", FormatRfc3339(e.Int(7))},
                        {"note", e.Text(8)}, {"detail", json::parse(e.Text(9), nullptr, false)}});
  }
  out["timeline"] = std::move(timeline);
  json attachments = json::array();
  for (const auto& f : rows.files.rows) {
    attachments.push_back({{"sha256", f.Text(0)}, {"name", f.Text(1)}, {"content_type", f.Text(2)}, {"size", f.Int(3)},
                           {"url", "/api/v1/attachments/" + f.Text(0)}});
  }
  out["attachments"] = std::move(attachments);
  json wallet_documents = json::array();
  for (const auto& w : rows.wallet_documents.rows) wallet_documents.push_back(WalletRefJson(r.Text(kCode), w));
  out["wallet_documents"] = std::move(wallet_documents);
  // What this caller may do next, by the rules and their role and jurisdiction.
  out["allowed_actions"] = AllowedActions(who, r);
  bool is_applicant = !r.IsNull(kApplicantUser) && r.Int(kApplicantUser) == who.user_id;
  // Rating the service is not a lifecycle action; the applicant may do it once, after return.
  out["can_rate"] = is_applicant && r.Text(kStatus) == "returned" && r.IsNull(kRating);
  return out;
}

std::string DossierService::RenderText(const http::Principal& who, const DossierRows& rows) const {
  // Every object's keys in byte order, as nlohmann's std::map-backed objects dump them; the test
  // DossierTest.TheAnswerIsTheBytesOfTheDocument compares the two in every state a dossier passes.
  const auto& r = *rows.dossier;
  const int64_t now = clock_->NowMillis();
  const std::string status = r.Text(kStatus);
  const StateRule* state = rules_->State(status);
  const bool open = state ? state->open : false;
  const Lateness late = LatenessOf(r, now, open);
  const bool is_applicant = !r.IsNull(kApplicantUser) && r.Int(kApplicantUser) == who.user_id;
  JsonWriter w;
  auto opt_text = [&w](const storage::Row& row, int col) {
    if (row.IsNull(col)) {
      w.Null();
    } else {
      w.String(row.Text(col));
    }
  };
  auto opt_time = [&w, &r](int col) {
    if (r.IsNull(col)) {
      w.Null();
    } else {
      w.String(FormatRfc3339(r.Int(col)));
    }
  };
  // A stored document (nlohmann's dump, so the same bytes as a parse and dump of it); an empty
  // column, which no writer leaves, as null rather than broken JSON.
  auto stored = [&w](const std::string& text) {
    if (text.empty()) {
      w.Null();
    } else {
      w.Raw(text);
    }
  };
  w.BeginObject();
  w.Key("allowed_actions").BeginArray();
  for (const auto& name : AllowedActions(who, r)) w.String(name);
  w.EndArray();
  w.Key("apologies").Int(r.Int(kApologies));
  w.Key("applicant").BeginObject();
  w.Key("account").Bool(!r.IsNull(kApplicantUser));
  w.Key("address").String(r.Text(kApplicantAddress));
  w.Key("email");
  opt_text(r, kApplicantEmail);
  w.Key("full_name").String(r.Text(kApplicantName));
  w.Key("id_number");
  opt_text(r, kApplicantId);
  w.Key("phone");
  opt_text(r, kApplicantPhone);
  w.EndObject();
  w.Key("assignee");
  opt_text(r, kAssignee);
  w.Key("attachments").BeginArray();
  for (const auto& f : rows.files.rows) {
    const std::string sha256 = f.Text(0);
    w.BeginObject()
        .Key("content_type")
        .String(f.Text(2))
        .Key("name")
        .String(f.Text(1))
        .Key("sha256")
        .String(sha256)
        .Key("size")
        .Int(f.Int(3))
        .Key("url")
        .String("/api/v1/attachments/" + sha256)
        .EndObject();
  }
  w.EndArray();
  w.Key("can_rate").Bool(is_applicant && status == "returned" && r.IsNull(kRating));
  w.Key("channel").String(r.Text(kChannel));
  const std::string code = r.Text(kCode);
  w.Key("code").String(code);
  w.Key("competent_agency").String(r.Text(kCompetent));
  w.Key("components");
  stored(r.Text(kComponents));
  w.Key("delivery").String(r.Text(kDelivery));
  w.Key("due_at");
  opt_time(kDueAt);
  w.Key("due_soon").Bool(late.due_soon);
  w.Key("finished_at");
  opt_time(kFinishedAt);
  w.Key("form");
  stored(r.Text(kForm));
  w.Key("handling_agency").String(r.Text(kHandling));
  w.Key("on_time");
  if (r.IsNull(kOnTime)) {
    w.Null();
  } else {
    w.Bool(r.Int(kOnTime) != 0);
  }
  w.Key("open").Bool(open);
  w.Key("overdue").Bool(late.overdue);
  w.Key("paused").Bool(!r.IsNull(kPausedAt));
  w.Key("procedure")
      .BeginObject()
      .Key("code")
      .String(r.Text(kProcCode))
      .Key("name")
      .String(r.Text(kProcName))
      .EndObject();
  w.Key("rating");
  if (r.IsNull(kRating)) {
    w.Null();
  } else {
    w.Int(r.Int(kRating));
  }
  w.Key("received_at");
  opt_time(kReceivedAt);
  w.Key("receiving_agency").String(r.Text(kReceiving));
  w.Key("returned_at");
  opt_time(kReturnedAt);
  w.Key("status").String(status);
  w.Key("status_label").String(state ? state->label_vi : status);
  w.Key("submitted_at");
  opt_time(kSubmittedAt);
  w.Key("timeline").BeginArray();
  for (const auto& e : rows.events.rows) {
    const std::string to = e.Text(3);
    const StateRule* to_state = rules_->State(to);
    w.BeginObject();
    w.Key("action").String(e.Text(1));
    w.Key("actor").String(e.Text(4));
    w.Key("actor_role").String(e.Text(5));
    w.Key("agency");
    opt_text(e, 6);
    w.Key("at").String(FormatRfc3339(e.Int(7)));
    w.Key("detail");
    stored(e.Text(9));
    w.Key("from_status");
    opt_text(e, 2);
    w.Key("note").String(e.Text(8));
    w.Key("seq").Int(e.Int(0));
    w.Key("to_label").String(to_state ? to_state->label_vi : to);
    w.Key("to_status").String(to);
    w.EndObject();
  }
  w.EndArray();
  w.Key("unit_code").String(r.Text(kUnit));
  w.Key("updated_at");
  opt_time(kUpdatedAt);
  w.Key("version").Int(r.Int(kVersion));
  w.Key("wallet_documents").BeginArray();
  for (const auto& d : rows.wallet_documents.rows) {
    const std::string document_id = d.Text(1);
    w.BeginObject()
        .Key("component")
        .String(d.Text(0))
        .Key("document_id")
        .String(document_id)
        .Key("issued_on")
        .String(d.Text(6))
        .Key("issuer_agency")
        .String(d.Text(5))
        .Key("number")
        .String(d.Text(4))
        .Key("title")
        .String(d.Text(3))
        .Key("type")
        .String(d.Text(2))
        .Key("url")
        .String("/api/v1/dossiers/" + code + "/wallet-documents/" + document_id)
        .EndObject();
  }
  w.EndArray();
  // A double as nlohmann writes it (shortest round-trip form, "15.0" for a whole number).
  w.Key("working_days").Raw(json(r.Double(kWorkingDays)).dump());
  w.EndObject();
  return w.Take();
}

DossierService::LifeState DossierService::StateOf(const storage::Row& r) {
  auto opt = [&](int col) { return r.IsNull(col) ? std::nullopt : std::optional<int64_t>(r.Int(col)); };
  LifeState st;
  st.status = r.Text(kStatus);
  st.handling = r.Text(kHandling);
  st.competent = r.Text(kCompetent);
  st.assignee = r.OptText(kAssignee);
  st.working_days = r.Double(kWorkingDays);
  st.received_at = opt(kReceivedAt);
  st.due = opt(kDueAt);
  st.paused = opt(kPausedAt);
  st.finished = opt(kFinishedAt);
  st.returned = opt(kReturnedAt);
  st.on_time = opt(kOnTime);
  st.apologies = r.Int(kApologies);
  return st;
}

Result<json> DossierService::Transition(const ActionRule& rule, const std::string& action,
                                        const std::optional<std::string>& assignee,
                                        const std::optional<std::string>& agency, std::optional<int64_t> new_due,
                                        int64_t now, LifeState& st) const {
  std::string from = st.status;
  std::string to = rule.to.value_or(from);
  json detail = json::object();
  if (rule.needs == "assignee" && assignee) {
    st.assignee = *assignee;
    detail["assignee"] = *assignee;
  }
  if (rule.needs == "agency" && agency) {
    detail["from_agency"] = st.handling;
    detail["to_agency"] = *agency;
    st.handling = *agency;
    st.assignee.reset();
    // Back at the competent agency: the inter-agency leg (liên thông) is over.
    if (st.handling == st.competent) to = "in_progress";
  }
  switch (rule.clock) {
    case ClockEffect::kStart: {
      st.received_at = now;
      TL_ASSIGN_OR_RETURN(int64_t d, deadlines_->DueTime(now, st.working_days));
      st.due = d;
      detail["due_at"] = FormatRfc3339(d);
      break;
    }
    case ClockEffect::kPause:
      st.paused = now;
      break;
    case ClockEffect::kResume:
      if (st.paused && st.due) {
        int64_t left = *st.due > *st.paused ? deadlines_->WorkingMillisBetween(*st.paused, *st.due) : 0;
        TL_ASSIGN_OR_RETURN(int64_t d, deadlines_->AddWorkingMillis(now, left));
        st.due = d;
        detail["due_at"] = FormatRfc3339(d);
      }
      st.paused.reset();
      break;
    case ClockEffect::kStop:
      st.finished = now;
      st.paused.reset();
      st.on_time = (!st.due || now <= *st.due) ? 1 : 0;
      break;
    case ClockEffect::kNone:
      break;
  }
  if (new_due) {
    detail["previous_due_at"] = st.due ? json(FormatRfc3339(*st.due)) : json(nullptr);
    detail["due_at"] = FormatRfc3339(*new_due);
    st.due = new_due;
    st.apologies++;
  }
  if (action == "return") st.returned = now;
  st.status = to;
  return detail;
}

Result<std::shared_ptr<DossierService::ActCall>> DossierService::PrepareAct(const http::Principal& who,
                                                                            const std::string& code,
                                                                            const std::string& action,
                                                                            const ActionRequest& req,
                                                                            const audit::Entry& ctx) const {
  const ActionRule* rule = rules_->Action(action);
  if (!rule) return NotFound("no action '" + action + "'");
  if (rule->note_required && text::Trim(req.note).empty()) return InvalidArgument("this action needs a note", "note");
  if (rule->needs == "assignee" && !req.assignee) return InvalidArgument("name the official to assign", "assignee");
  if (rule->needs == "agency" && !req.agency) return InvalidArgument("name the agency to transfer to", "agency");
  if (rule->needs == "new_due_date" && !req.new_due_date) {
    return InvalidArgument("give the new appointment date", "new_due_date");
  }
  int64_t now = clock_->NowMillis();
  std::optional<int64_t> new_due;
  if (req.new_due_date) {
    TL_ASSIGN_OR_RETURN(int64_t d, deadlines_->CloseOfDay(*req.new_due_date));
    if (d <= now) return InvalidArgument("the new appointment must be in the future", "new_due_date");
    new_due = d;
  }
  auto call = std::make_shared<ActCall>();
  call->who = who;
  call->code = code;
  call->action = action;
  call->req = req;
  call->ctx = ctx;
  call->rule = rule;
  call->now = now;
  call->new_due = new_due;
  return call;
}

Status DossierService::ActIn(storage::Session& s, ActCall& call) const {
  bool updated = false;
  // What this process committed at the version the caller names, if it is still here: the row, the
  // timeline and the attachments need no read. The UPDATE's version check proves the entry current;
  // anything that fails before it is tried again on the row as read.
  if (auto cached = cache_->Find(call.code, call.req.version)) {
    Status st = ActOn(s, call, cached->dossier, cached->queue_key, cached.get(), updated);
    if (st.ok() || updated) return st;
  }
  TL_ASSIGN_OR_RETURN(
      auto rs, s.Query(std::string("SELECT ") + kColumns + ", queue_key FROM dossiers WHERE code = ?", {call.code}));
  if (rs.empty()) return NotFound("no dossier " + call.code + " that you may see");
  constexpr int kQueueKeyCol = kReusedDocuments + 1;  // the column after kColumns in this statement
  return ActOn(s, call, rs.rows[0], rs.rows[0].Int(kQueueKeyCol), nullptr, updated);
}

Status DossierService::ActOn(storage::Session& s, ActCall& call, const storage::Row& r, int64_t stored_queue_key,
                             const DossierCache::Entry* cached, bool& updated) const {
  const http::Principal& who = call.who;
  const std::string& code = call.code;
  const std::string& action = call.action;
  const ActionRequest& req = call.req;
  const audit::Entry& ctx = call.ctx;
  const ActionRule* rule = call.rule;
  const int64_t now = call.now;
  const std::optional<int64_t>& new_due = call.new_due;
  DossierRows& view = call.view;
  // From a clean view: after a failed try on a cache entry, and when the work runs again after a
  // rollback (it is rerunnable, storage/database.h).
  view = DossierRows();
  if (!MayView(who, r)) return NotFound("no dossier " + code + " that you may see");
  std::string from = r.Text(kStatus);
  bool is_applicant = !r.IsNull(kApplicantUser) && r.Int(kApplicantUser) == who.user_id;
  bool by_role = rule->AllowsRole(who.role) &&
                 (who.CoversAgency(r.Text(kHandling)) || (rule->desk && who.CoversAgency(r.Text(kReceiving))));
  bool by_applicant = is_applicant && rule->AllowsRole("applicant");
  if (!by_role && !by_applicant) {
    return PermissionDenied("your role or jurisdiction does not allow '" + action + "' on this dossier");
  }
  if (r.Int(kVersion) != req.version) {
    return Conflict("the dossier changed since you loaded it (you had version " + std::to_string(req.version) +
                    ", it is now " + std::to_string(r.Int(kVersion)) + "); reload and try again");
  }
  if (!rule->AllowsFrom(from)) {
    return Conflict("'" + action + "' is not possible while the dossier is " + from);
  }
  LifeState st = StateOf(r);
  std::optional<std::string> new_assignee;
  if (rule->needs == "assignee") {
    TL_ASSIGN_OR_RETURN(auto off,
                        s.Query("SELECT role, agency_code, disabled FROM users WHERE username = ?", {*req.assignee}));
    if (off.empty() || off.rows[0].Int(2) != 0) return InvalidArgument("no active official by that name", "assignee");
    std::string role = off.rows[0].Text(0);
    if (role != "specialist" && role != "leader" && role != "desk_officer") {
      return InvalidArgument("dossiers are assigned to specialists, leaders or desk officers", "assignee");
    }
    if (off.rows[0].Text(1) != st.handling) {
      return InvalidArgument("the official does not belong to the handling agency " + st.handling, "assignee");
    }
  }
  if (rule->needs == "agency") {
    TL_ASSIGN_OR_RETURN(auto ag, s.Query("SELECT 1 FROM agencies WHERE code = ?", {*req.agency}));
    if (ag.empty()) return InvalidArgument("no agency with this code", "agency");
    if (*req.agency == st.handling) return InvalidArgument("the dossier is already with this agency", "agency");
  }
  TL_ASSIGN_OR_RETURN(json detail, Transition(*rule, action, req.assignee, req.agency, new_due, now, st));
  const std::string& to = st.status;
  const StateRule* to_state = rules_->State(to);
  bool open = to_state ? to_state->open : false;
  int64_t queue_key = (open && st.due) ? *st.due : kNoDue;
  // Only the columns the action changed: SQLite rewrites the entries of every index on a column
  // named in SET, changed or not (five of the table's indexes are on these columns), and each
  // index page touched is another page in the WAL.
  // `after_row` is the row as the UPDATE leaves it, the action's answer: the columns of kColumns as read,
  // with what SET changes.
  std::string set = "version = version + 1, updated_at = ?";
  std::vector<storage::Value> params{now};
  std::vector<std::optional<std::string>> after_row;
  after_row.reserve(kReusedDocuments + 1);
  for (int col = 0; col <= kReusedDocuments; ++col) after_row.push_back(r.OptText(col));
  after_row[kVersion] = std::to_string(r.Int(kVersion) + 1);
  after_row[kUpdatedAt] = std::to_string(now);
  auto set_text = [&](const char* column, int col, const std::optional<std::string>& value) {
    if ((r.IsNull(col) ? std::nullopt : std::optional<std::string>(r.Text(col))) == value) return;
    set.append(", ").append(column).append(" = ?");
    params.push_back(storage::OptText(value));
    if (col <= kReusedDocuments) after_row[col] = value;
  };
  auto set_int = [&](const char* column, int col, const std::optional<int64_t>& value) {
    if ((r.IsNull(col) ? std::nullopt : std::optional<int64_t>(r.Int(col))) == value) return;
    set.append(", ").append(column).append(" = ?");
    params.push_back(storage::OptInt(value));
    if (col <= kReusedDocuments) after_row[col] = value ? std::optional(std::to_string(*value)) : std::nullopt;
  };
  set_text("status", kStatus, to);
  set_text("handling_agency", kHandling, st.handling);
  set_text("assignee", kAssignee, st.assignee);
  set_int("received_at", kReceivedAt, st.received_at);
  set_int("due_at", kDueAt, st.due);
  set_int("paused_at", kPausedAt, st.paused);
  set_int("finished_at", kFinishedAt, st.finished);
  set_int("returned_at", kReturnedAt, st.returned);
  set_int("on_time", kOnTime, st.on_time);
  set_int("apologies", kApologies, st.apologies);
  if (queue_key != stored_queue_key) {
    set.append(", queue_key = ?");
    params.push_back(queue_key);
  }
  call.queue_key = queue_key;
  params.push_back(code);
  params.push_back(req.version);
  TL_ASSIGN_OR_RETURN(auto n, s.ExecV("UPDATE dossiers SET " + set + " WHERE code = ? AND version = ?", params));
  if (n != 1) return Conflict("the dossier changed meanwhile; reload and try again");
  updated = true;
  daily::Facts after = FactsOf(r);
  after.status = to;
  after.finished = st.finished.has_value();
  after.on_time = st.on_time;
  after.apologies = st.apologies;
  // The timeline as it was, for the answer (the new event is added to it below) and the next number.
  if (cached) {
    view.events = cached->events;
  } else {
    TL_ASSIGN_OR_RETURN(view.events, s.Query(kTimelineSql, {code}));
  }
  const int64_t seq = view.events.empty() ? 1 : view.events.rows.back().Int(0) + 1;
  const std::string actor_role = is_applicant && by_applicant && !by_role ? std::string("applicant") : who.role;
  const std::string detail_text = detail.dump();
  TL_ASSIGN_OR_RETURN(auto ev,
                      s.Exec("INSERT INTO dossier_events (dossier_code, seq, action, from_status, to_status, "
                             "actor, actor_role, agency, at, note, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             {code, seq, action, from, to, who.username, actor_role, storage::OptText(who.agency), now,
                              req.note, detail_text}));
  (void)ev;
  view.events.rows.emplace_back(std::vector<std::optional<std::string>>{std::to_string(seq), action, from, to,
                                                                        who.username, actor_role, who.agency,
                                                                        std::to_string(now), req.note, detail_text});
  std::string title = "Hồ sơ " + code + ": " + (to_state ? to_state->label_vi : to);
  std::string body = req.note.empty() ? title : req.note;
  if (!r.IsNull(kApplicantUser)) {
    TL_ASSIGN_OR_RETURN(auto nn,
                        s.Exec("INSERT INTO notifications (user_id, dossier_code, kind, title, body, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               {r.Int(kApplicantUser), code, action, title, body, now}));
    (void)nn;
  }
  // E-mail goes to any applicant who gave an address (with an account or recorded at the desk), and
  // only for what they must know or do — not for internal steps (assign, propose, approve, transfer).
  static const std::set<std::string> kMailed = {"receive", "refuse", "request-supplement", "reject",  "issue-result",
                                                "return",  "stop",   "apologise",          "withdraw"};
  if (kMailed.count(action)) TL_RETURN_IF_ERROR(MailApplicant(s, r.OptText(kApplicantEmail), code, title, body));
  if (action == "issue-result" && result_listener_) {
    TL_RETURN_IF_ERROR(result_listener_->OnResultIssued(s, IssuedOf(r, who.username, now), call.prepared.get()));
  }
  audit::Entry e = ctx;
  e.action = "dossier." + action;
  e.resource = "dossier:" + code;
  e.detail = json{{"from", from}, {"to", to}}.dump();
  // The answer is the state this action produced: the row as the UPDATE left it (nothing else in the
  // transaction writes the dossier's row or its timeline), and its attachments as this process last
  // committed them (the cache entry the UPDATE proved current) or read on the writer's connection,
  // where their pages are warm.
  view.dossier = storage::Row(std::move(after_row));
  if (cached) {
    view.files = cached->files;
    view.wallet_documents = cached->wallet_documents;
  } else {
    TL_RETURN_IF_ERROR(FetchAttachments(s, code, view));
  }
  return AddCountsAndAudit(s, r.Text(kUnit), daily::DayOf(r.Int(kSubmittedAt)),
                           daily::Minus(daily::Of(after), daily::Of(FactsOf(r))), e);
}

IssuedResult DossierService::IssuedOf(const storage::Row& r, const std::string& actor, int64_t at_ms) {
  return IssuedResult{r.Text(kCode),
                      r.Text(kProcCode),
                      r.Text(kProcName),
                      r.IsNull(kHandling) ? r.Text(kCompetent) : r.Text(kHandling),
                      r.Text(kUnit),
                      r.Text(kApplicantName),
                      r.Text(kApplicantId),
                      r.Text(kForm),
                      actor,
                      at_ms};
}

void DossierService::PrepareResult(ActCall& call) const {
  if (call.action != "issue-result" || !result_listener_) return;
  auto cached = cache_->Find(call.code, call.req.version);
  if (!cached) return;
  const storage::Row& r = cached->dossier;
  // Only for a caller the action would let through (no work done ahead for anyone else).
  if (!call.rule->AllowsRole(call.who.role) || !call.who.CoversAgency(r.Text(kHandling)) ||
      !call.rule->AllowsFrom(r.Text(kStatus))) {
    return;
  }
  call.prepared = result_listener_->Prepare(IssuedOf(r, call.who.username, call.now));
}

void DossierService::Remember(DossierRows view, int64_t queue_key) const {
  if (!view.dossier) return;
  auto e = std::make_shared<DossierCache::Entry>();
  e->version = view.dossier->Int(kVersion);
  std::string code = view.dossier->Text(kCode);
  e->dossier = *std::move(view.dossier);
  e->queue_key = queue_key;
  e->events = std::move(view.events);
  e->files = std::move(view.files);
  e->wallet_documents = std::move(view.wallet_documents);
  cache_->Put(code, std::move(e));
}

Result<json> DossierService::Act(const http::Principal& who, const std::string& code, const std::string& action,
                                 const ActionRequest& req, const audit::Entry& ctx) {
  TL_ASSIGN_OR_RETURN(auto call, PrepareAct(who, code, action, req, ctx));
  PrepareResult(*call);
  TL_RETURN_IF_ERROR(db_->WriteRerunnable([&](storage::Session& s) { return ActIn(s, *call); }));
  // The caller sees the outcome of their own action, even when it sent the dossier out of their reach.
  json answer = Render(who, call->view);
  Remember(std::move(call->view), call->queue_key);  // rendered first: the view moves into the cache
  return answer;
}

void DossierService::ActAsync(const http::Principal& who, const std::string& code, const std::string& action,
                              const ActionRequest& req, const audit::Entry& ctx,
                              std::function<void(Result<std::string>)> done) {
  auto call = PrepareAct(who, code, action, req, ctx);
  if (!call.ok()) return done(call.status());
  std::shared_ptr<ActCall> c = std::move(*call);
  PrepareResult(*c);
  db_->WriteAsyncRerunnable([this, c](storage::Session& s) { return ActIn(s, *c); },
                            [this, c, done = std::move(done)](Status committed) {
                              if (!committed.ok()) return done(committed);
                              // Rendered first, so that the view moves into the cache; remembered
                              // before the answer leaves, which lets the next action come.
                              Result<std::string> answer = RenderText(c->who, c->view);
                              Remember(std::move(c->view), c->queue_key);
                              done(std::move(answer));
                            });
}

Result<json> DossierService::Queue(const http::Principal& who, const QueueQuery& q) {
  if (!who.IsOfficial() && !who.city_wide) return PermissionDenied("queues are for officials");
  std::string where = " WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (q.scope == "mine") {
    where += " AND assignee = ?";
    params.emplace_back(who.username);
  } else if (!who.city_wide) {
    std::string list;
    for (size_t i = 0; i < who.agencies_in_jurisdiction.size(); ++i) list += i ? ", ?" : "?";
    if (list.empty()) return json{{"items", json::array()}, {"next_cursor", nullptr}};
    where += " AND (handling_agency IN (" + list + ") OR (receiving_agency IN (" + list +
             ") AND status IN ('submitted', 'result_issued', 'supplement_requested')))";
    for (int k = 0; k < 2; ++k) {
      for (const auto& a : who.agencies_in_jurisdiction) params.emplace_back(a);
    }
  }
  if (q.status) {
    where += " AND status = ?";
    params.emplace_back(*q.status);
  } else {
    where += " AND status NOT IN ('returned', 'refused', 'withdrawn', 'stopped')";
  }
  if (q.procedure) {
    where += " AND procedure_code = ?";
    params.emplace_back(*q.procedure);
  }
  if (q.channel) {
    where += " AND channel = ?";
    params.emplace_back(*q.channel);
  }
  if (q.applicant) {
    where += " AND applicant_name_folded LIKE ?";
    params.emplace_back("%" + text::FoldForSearch(*q.applicant) + "%");
  }
  if (q.from) {
    TL_ASSIGN_OR_RETURN(int64_t f, ParseDate(*q.from, "from"));
    where += " AND submitted_at >= ?";
    params.emplace_back(f - kHanoiOffsetMs);
  }
  if (q.to) {
    TL_ASSIGN_OR_RETURN(int64_t t, ParseDate(*q.to, "to"));
    where += " AND submitted_at < ?";
    params.emplace_back(t + kDayMs - kHanoiOffsetMs);
  }
  int64_t now = clock_->NowMillis();
  if (q.overdue_only) {
    where += " AND due_at IS NOT NULL AND due_at < ? AND paused_at IS NULL";
    params.emplace_back(now);
  }
  if (q.cursor) {
    auto colon = q.cursor->find(':');
    if (colon == std::string::npos) return InvalidArgument("not a cursor from a previous page", "cursor");
    char* end = nullptr;
    long long key = std::strtoll(q.cursor->substr(0, colon).c_str(), &end, 10);
    if (*end != '\0') return InvalidArgument("not a cursor from a previous page", "cursor");
    where += " AND (queue_key > ? OR (queue_key = ? AND code > ?))";
    params.emplace_back(static_cast<int64_t>(key));
    params.emplace_back(static_cast<int64_t>(key));
    params.emplace_back(q.cursor->substr(colon + 1));
  }
  params.emplace_back(int64_t{q.limit + 1});
  json items = json::array();
  json next = nullptr;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(std::string("SELECT ") + kColumns + ", queue_key FROM dossiers" + where +
                                              " ORDER BY queue_key, code LIMIT ?",
                                          params));
    for (size_t i = 0; i < rs.rows.size() && i < static_cast<size_t>(q.limit); ++i) {
      items.push_back(QueueItemJson(rs.rows[i], now, *rules_));
    }
    if (rs.rows.size() > static_cast<size_t>(q.limit)) {
      const auto& last = rs.rows[q.limit - 1];
      next = last.Text(kReusedDocuments + 1) + ":" + last.Text(kCode);
    }
    return Status::Ok();
  }));
  return json{{"items", items}, {"next_cursor", next}};
}

Result<json> DossierService::Counts(const http::Principal& who, const std::string& scope) {
  if (!who.IsOfficial() && !who.city_wide) return PermissionDenied("queues are for officials");
  std::string where = " WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (scope == "mine") {
    where += " AND assignee = ?";
    params.emplace_back(who.username);
  } else if (!who.city_wide) {
    std::string list;
    for (size_t i = 0; i < who.agencies_in_jurisdiction.size(); ++i) list += i ? ", ?" : "?";
    where += " AND handling_agency IN (" + list + ")";
    for (const auto& a : who.agencies_in_jurisdiction) params.emplace_back(a);
  }
  json counts = json::object();
  int64_t overdue = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV("SELECT status, COUNT(*) FROM dossiers" + where + " GROUP BY status", params));
    for (const auto& r : rs.rows) counts[r.Text(0)] = r.Int(1);
    auto p2 = params;
    p2.emplace_back(clock_->NowMillis());
    TL_ASSIGN_OR_RETURN(auto od, s.QueryV("SELECT COUNT(*) FROM dossiers" + where +
                                              " AND finished_at IS NULL AND paused_at IS NULL AND due_at < ?",
                                          p2));
    overdue = od.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return json{{"by_status", counts}, {"overdue", overdue}};
}

Result<json> DossierService::MyDossiers(const http::Principal& who, const std::optional<std::string>& cursor, int limit) {
  json items = json::array();
  json next = nullptr;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    std::string sql = std::string("SELECT ") + kColumns + " FROM dossiers WHERE applicant_user_id = ?";
    std::vector<storage::Value> params{who.user_id};
    if (cursor) {
      sql += " AND code < ?";
      params.emplace_back(*cursor);
    }
    sql += " ORDER BY code DESC LIMIT ?";
    params.emplace_back(int64_t{limit + 1});
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (size_t i = 0; i < rs.rows.size() && i < static_cast<size_t>(limit); ++i) {
      items.push_back(QueueItemJson(rs.rows[i], now, *rules_));
    }
    if (rs.rows.size() > static_cast<size_t>(limit)) next = rs.rows[limit - 1].Text(kCode);
    return Status::Ok();
  }));
  return json{{"items", items}, {"next_cursor", next}};
}

Result<std::string> DossierService::PublicStatus(const std::string& code, const std::string& check,
                                                 const std::string& client_ip) {
  const int kMaxFailures = 10;
  const int64_t kWindow = 15LL * 60 * 1000;
  int64_t now = clock_->NowMillis();
  std::string key = "ip:" + client_ip;
  bool throttled = false;
  std::optional<std::string> found;
  bool valid_check = check.size() == 4 && std::all_of(check.begin(), check.end(), [](char c) { return c >= '0' && c <= '9'; });
  // One statement: the address's recent failures and, with well-formed check digits, only the columns
  // the public answer needs (a look-up is a hot path: no form, no applicant's name).
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(
        auto rs, s.Query("SELECT t.window_start, t.failures, d.code, d.procedure_name, d.status, d.submitted_at, "
                         "d.received_at, d.due_at, d.paused_at, d.finished_at, d.returned_at, d.applicant_id_number, "
                         "d.applicant_phone FROM (SELECT 1 AS one) AS q "
                         "LEFT JOIN public_lookup_throttle t ON t.throttle_key = ? "
                         "LEFT JOIN dossiers d ON d.code = ?",
                         {key, valid_check ? code : std::string()}));
    if (rs.empty()) return Status::Ok();
    const auto& r = rs.rows[0];
    throttled = !r.IsNull(0) && now - r.Int(0) <= kWindow && r.Int(1) >= kMaxFailures;
    if (throttled || !valid_check || r.IsNull(2)) return Status::Ok();
    auto last4 = [](const std::string& v) { return v.size() >= 4 ? v.substr(v.size() - 4) : std::string(); };
    std::string id = r.IsNull(11) ? std::string() : r.Text(11), phone = r.IsNull(12) ? std::string() : r.Text(12);
    bool ok = (!id.empty() && crypto::ConstantTimeEquals(last4(id), check)) ||
              (!phone.empty() && crypto::ConstantTimeEquals(last4(phone), check));
    if (!ok) return Status::Ok();
    // Only what the public may see (no form, no applicant).
    std::string status = r.Text(4);
    const StateRule* st = rules_->State(status);
    bool counting = st && st->open && !r.IsNull(7) && r.IsNull(8) && r.IsNull(9);
    // Written straight into the answer's text (no DOM: this is the look-up's hot path), with the keys
    // in the order nlohmann's objects sort them, as every other answer has them.
    auto time_or_null = [&](JsonWriter& w, int col) -> JsonWriter& {
      return r.IsNull(col) ? w.Null() : w.String(FormatRfc3339(r.Int(col)));
    };
    JsonWriter w;
    w.BeginObject().Key("code").String(r.Text(2));
    time_or_null(w.Key("due_at"), 7);
    time_or_null(w.Key("finished_at"), 9);
    w.Key("overdue").Bool(counting && now > r.Int(7));
    w.Key("procedure").String(r.Text(3));
    time_or_null(w.Key("received_at"), 6);
    time_or_null(w.Key("returned_at"), 10);
    w.Key("status").String(status).Key("status_label").String(st ? st->label_vi : status);
    time_or_null(w.Key("submitted_at"), 5);
    found = w.EndObject().Take();
    return Status::Ok();
  }));
  if (throttled) return ResourceExhausted("too many unsuccessful look-ups from this address; wait 15 minutes");
  if (found) return std::move(*found);
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    return s.Exec("INSERT INTO public_lookup_throttle (throttle_key, window_start, failures) VALUES (?, ?, 1) "
                  "ON CONFLICT (throttle_key) DO UPDATE SET "
                  "failures = CASE WHEN ? - public_lookup_throttle.window_start > ? THEN 1 ELSE public_lookup_throttle.failures + 1 END, "
                  "window_start = CASE WHEN ? - public_lookup_throttle.window_start > ? THEN ? ELSE public_lookup_throttle.window_start END",
                  {key, now, now, kWindow, now, kWindow, now})
        .status();
  }));
  return NotFound("no dossier matches this code and check digits");
}

Result<json> DossierService::Upload(const http::Principal& who, const std::string& content_type,
                                    const std::string& body, const audit::Entry& ctx) {
  std::string type = MediaType(content_type);
  TL_RETURN_IF_ERROR(CheckDocument(type, body, "attachments"));
  std::string sha = crypto::Sha256Hex(body);
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto f, s.Exec("INSERT INTO dossier_files (sha256, content_type, size, data, created_at) "
                                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                                       {sha, type, static_cast<int64_t>(body.size()), storage::Blob{body}, now}));
    (void)f;
    TL_ASSIGN_OR_RETURN(auto o, s.Exec("INSERT INTO dossier_file_owners (sha256, user_id) VALUES (?, ?) "
                                       "ON CONFLICT (sha256, user_id) DO NOTHING",
                                       {sha, who.user_id}));
    (void)o;
    audit::Entry e = ctx;
    e.action = "attachment.upload";
    e.resource = "file:" + sha;
    e.detail = json{{"content_type", type}, {"size", body.size()}}.dump();
    return audit_->Append(s, e);
  }));
  return json{{"sha256", sha}, {"content_type", type}, {"size", body.size()}, {"url", "/api/v1/attachments/" + sha}};
}

Result<StoredFile> DossierService::Download(const http::Principal& who, const std::string& sha256) {
  StoredFile out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto own, s.Query("SELECT 1 FROM dossier_file_owners WHERE sha256 = ? AND user_id = ?",
                                          {sha256, who.user_id}));
    bool allowed = !own.empty();
    if (!allowed) {
      TL_ASSIGN_OR_RETURN(auto cited, s.Query(std::string("SELECT ") + kColumns +
                                                  " FROM dossiers WHERE code IN (SELECT dossier_code FROM "
                                                  "dossier_attachments WHERE sha256 = ?)",
                                              {sha256}));
      for (const auto& r : cited.rows) allowed = allowed || MayView(who, r);
    }
    if (!allowed) return NotFound("no file " + sha256 + " that you may see");
    TL_ASSIGN_OR_RETURN(auto f, s.Query("SELECT content_type, size, data FROM dossier_files WHERE sha256 = ?", {sha256}));
    if (f.empty()) return NotFound("no file " + sha256 + " that you may see");
    out.sha256 = sha256;
    out.content_type = f.rows[0].Text(0);
    out.size = f.rows[0].Int(1);
    out.bytes = f.rows[0].Text(2);
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> DossierService::Total() const {
  int64_t n = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM dossiers"));
    n = rs.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return n;
}

Result<json> DossierService::Notifications(const http::Principal& who, bool unread_only) {
  json items = json::array();
  int64_t unread = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto count, s.Query("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                                            {who.user_id}));
    unread = count.rows.at(0).Int(0);
    std::string sql = "SELECT id, dossier_code, kind, title, body, created_at, read_at FROM notifications WHERE user_id = ?";
    if (unread_only) sql += " AND read_at IS NULL";
    sql += " ORDER BY id DESC LIMIT 100";
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(sql, {who.user_id}));
    for (const auto& r : rs.rows) {
      items.push_back({{"id", r.Int(0)}, {"dossier_code", OptText(r, 1)}, {"kind", r.Text(2)}, {"title", r.Text(3)},
                       {"body", r.Text(4)}, {"created_at", FormatRfc3339(r.Int(5))}, {"read", !r.IsNull(6)}});
    }
    return Status::Ok();
  }));
  return json{{"items", items}, {"unread", unread}};
}

Status DossierService::MarkNotificationRead(const http::Principal& who, int64_t id) {
  return db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
                                       {clock_->NowMillis(), id, who.user_id}));
    (void)n;
    return Status::Ok();
  });
}

Result<json> DossierService::Rate(const http::Principal& who, const std::string& code, int rating,
                                  const std::string& comment, const audit::Entry& ctx) {
  if (rating < 1 || rating > 5) return InvalidArgument("must be 1 to 5", "rating");
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM dossiers WHERE code = ?", {code}));
    if (rs.empty() || rs.rows[0].IsNull(kApplicantUser) || rs.rows[0].Int(kApplicantUser) != who.user_id) {
      return NotFound("no dossier " + code + " of yours");
    }
    const auto& r = rs.rows[0];
    if (r.Text(kStatus) != "returned") return Conflict("you can rate the service once the result is returned");
    if (!r.IsNull(kRating)) return Conflict("this dossier is already rated");
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE dossiers SET rating = ?, version = version + 1 WHERE code = ?",
                                       {int64_t{rating}, code}));
    (void)n;
    daily::Facts after = FactsOf(r);
    after.rating = rating;
    audit::Entry e = ctx;
    e.action = "dossier.rate";
    e.resource = "dossier:" + code;
    e.detail = json{{"rating", rating}, {"comment", comment}}.dump();
    return AddCountsAndAudit(s, r.Text(kUnit), daily::DayOf(r.Int(kSubmittedAt)),
                             daily::Minus(daily::Of(after), daily::Of(FactsOf(r))), e);
  }));
  return Get(who, code);
}

}  // namespace tl::dossiers

namespace tl::dossiers {

Result<double> DossierService::WorkingDaysOf(const std::string& procedure_code, const std::string& channel) {
  TL_ASSIGN_OR_RETURN(auto text, procedures_->GetJson(procedure_code, std::nullopt));
  return WorkingDaysFor(json::parse(text), channel);
}

double DossierService::WorkingDaysOf(const json& procedure, const std::string& channel) {
  return WorkingDaysFor(procedure, channel);
}

Result<std::vector<std::string>> DossierService::ComponentNames(const std::string& procedure_code,
                                                                const std::string& field) {
  auto text = procedures_->DetailJson(procedure_code, std::nullopt);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return InvalidArgument("no procedure with this code", field);
    return text.status();
  }
  json p = json::parse(*text, nullptr, false);
  std::vector<std::string> out;
  if (!p.is_object()) return out;
  const json* node = &p;
  for (const char* key : {"form_schema", "properties", "components", "items", "enum"}) {
    if (!node->is_object() || !node->contains(key)) return out;
    node = &(*node)[key];
  }
  if (!node->is_array()) return out;
  for (const auto& n : *node) {
    if (n.is_string()) out.push_back(n.get<std::string>());
  }
  return out;
}

Result<json> DossierService::WalletOffers(const http::Principal& who, const std::string& procedure_code) {
  if (!who.personal_id) return PermissionDenied("only citizens with a personal id keep a wallet");
  TL_ASSIGN_OR_RETURN(auto names, ComponentNames(procedure_code, "procedure"));
  std::vector<HeldDocument> held;
  if (once_only_rules_ && wallet_ && !names.empty()) {
    TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(held, wallet_->SignedDocumentsOf(s, *who.personal_id));
      return Status::Ok();
    }));
  }
  const std::string today = FormatDate(clock_->NowMillis() + kHanoiOffsetMs);
  json components = json::array();
  for (const auto& name : names) {
    json types = json::array(), documents = json::array();
    std::vector<const DocumentTypeRule*> rules;
    if (once_only_rules_) rules = once_only_rules_->RulesForComponent(name);
    for (const DocumentTypeRule* r : rules) {
      types.push_back({{"type", r->type}, {"label_vi", r->label_vi}, {"label_en", r->label_en}});
    }
    for (const HeldDocument& d : held) {
      const DocumentTypeRule* rule = once_only_rules_->RuleOfDocument(d.type);
      if (!rule || std::find(rules.begin(), rules.end(), rule) == rules.end()) continue;
      if (d.holder != *who.personal_id || d.verdict != "valid") continue;
      if (!d.valid_until.empty() && d.valid_until < today) continue;
      if (!ComponentDocumentRules::WithinValidDays(*rule, d.issued_on, today)) continue;
      documents.push_back({{"id", d.id},
                           {"type", d.type},
                           {"document_type", rule->type},
                           {"document_label_vi", rule->label_vi},
                           {"document_label_en", rule->label_en},
                           {"title", d.title},
                           {"number", d.number},
                           {"issuer_agency", d.issuer_agency},
                           {"issued_on", d.issued_on},
                           {"valid_until", d.valid_until.empty() ? json(nullptr) : json(d.valid_until)}});
    }
    components.push_back(
        {{"component", name}, {"document_types", std::move(types)}, {"documents", std::move(documents)}});
  }
  return json{{"procedure", procedure_code}, {"components", std::move(components)}};
}

Result<json> DossierService::ReferencedDocument(const http::Principal& who, const std::string& code,
                                                const std::string& document_id) {
  json out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM dossiers WHERE code = ?", {code}));
    if (rs.empty() || !MayView(who, rs.rows[0])) return NotFound("no dossier " + code + " that you may see");
    TL_ASSIGN_OR_RETURN(auto refs,
                        s.Query(std::string("SELECT ") + kWalletRefColumns +
                                    " FROM dossier_wallet_documents WHERE dossier_code = ? AND document_id = ? "
                                    "ORDER BY component",
                                {code, document_id}));
    if (refs.empty()) return NotFound("dossier " + code + " refers to no such wallet document");
    out = WalletRefJson(code, refs.rows[0]);
    json components = json::array();
    for (const auto& w : refs.rows) components.push_back(w.Text(0));
    out["components"] = std::move(components);
    out["has_file"] = false;
    json verification = {{"status", "unknown"}, {"reason", "the wallet is not available on this server"}};
    if (wallet_) {
      auto d = wallet_->Find(s, document_id);
      if (!d.ok() && d.status().code() != StatusCode::kNotFound) return d.status();
      if (d.ok()) {
        verification = {{"status", d->verdict}, {"reason", d->reason}};
        out["has_file"] = d->has_file;
        if (d->has_file) out["file_url"] = "/api/v1/dossiers/" + code + "/wallet-documents/" + document_id + "/file";
      } else {
        verification = {{"status", "unknown"}, {"reason", "the document is no longer in the wallet"}};
      }
    }
    verification["checked_at"] = FormatRfc3339(clock_->NowMillis());
    out["verification"] = std::move(verification);
    return Status::Ok();
  }));
  return out;
}

Result<StoredFile> DossierService::ReferencedDocumentFile(const http::Principal& who, const std::string& code,
                                                          const std::string& document_id) {
  StoredFile out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM dossiers WHERE code = ?", {code}));
    if (rs.empty() || !MayView(who, rs.rows[0])) return NotFound("no dossier " + code + " that you may see");
    TL_ASSIGN_OR_RETURN(auto refs, s.Query("SELECT 1 FROM dossier_wallet_documents WHERE dossier_code = ? AND "
                                           "document_id = ?",
                                           {code, document_id}));
    if (refs.empty() || !wallet_) return NotFound("dossier " + code + " refers to no such wallet document");
    TL_ASSIGN_OR_RETURN(auto file, wallet_->File(s, document_id));
    out.content_type = file.first;
    out.size = static_cast<int64_t>(file.second.size());
    out.bytes = std::move(file.second);
    out.sha256 = crypto::Sha256Hex(out.bytes);
    return Status::Ok();
  }));
  return out;
}

Result<HistoryReport> DossierService::ImportHistory(const std::vector<HistoricalDossier>& batch,
                                                    const audit::Entry& ctx) {
  HistoryReport report;
  struct Planned {
    std::vector<storage::Value> row;                  // without the code, which the transaction assigns
    std::vector<std::vector<storage::Value>> events;  // without the code
    std::string receiving, yymmdd, unit;
    int64_t day = 0;
    daily::Counts counts{};
  };
  std::map<std::string, json> procedures;  // parsed once per batch
  std::vector<Planned> planned;
  planned.reserve(batch.size());
  for (const auto& h : batch) {
    auto it = procedures.find(h.req.procedure_code);
    if (it == procedures.end()) {
      auto text = procedures_->GetJson(h.req.procedure_code, std::nullopt);
      if (!text.ok()) return InvalidArgument("no procedure " + h.req.procedure_code, "procedure_code");
      it = procedures.emplace(h.req.procedure_code, json::parse(*text)).first;
    }
    const json& procedure = it->second;
    const std::string& channel = h.req.channel;
    TL_ASSIGN_OR_RETURN(auto route, Routing(procedure, h.req.unit_code, h.submitter, channel));
    bool applicant_self = h.submitter.role == "citizen" || h.submitter.role == "organisation";
    int64_t now = h.submitted_at;
    LifeState st;
    st.status = channel == "online" ? "submitted" : "received";
    st.handling = route[1];
    st.competent = route[1];
    st.working_days = WorkingDaysFor(procedure, channel);
    if (channel != "online") {
      st.received_at = now;
      TL_ASSIGN_OR_RETURN(int64_t d, deadlines_->DueTime(now, st.working_days));
      st.due = d;
    }
    Planned p;
    p.receiving = route[0];
    p.unit = route[2];
    p.day = daily::DayOf(now);
    p.yymmdd = HanoiYymmdd(now);
    json first = {{"channel", channel}, {"working_days", st.working_days}};
    if (st.due) first["due_at"] = FormatRfc3339(*st.due);
    p.events.push_back({int64_t{1}, std::string(channel == "online" ? "submit" : "receive"), storage::Null(), st.status,
                        h.submitter.username, applicant_self ? std::string("applicant") : h.submitter.role,
                        storage::OptText(h.submitter.agency), now, std::string(), first.dump()});
    int64_t version = 1;
    int64_t last = now;
    for (const auto& a : h.actions) {
      const ActionRule* rule = rules_->Action(a.action);
      if (!rule || !rule->AllowsFrom(st.status) || a.at < last) {
        report.actions_refused++;
        break;
      }
      std::string from = st.status;
      auto detail = Transition(*rule, a.action, a.assignee, a.to_agency, std::nullopt, a.at, st);
      if (!detail.ok()) {
        report.actions_refused++;
        break;
      }
      ++version;
      last = a.at;
      p.events.push_back({version, a.action, from, st.status, a.actor, a.actor_role, storage::OptText(a.agency), a.at,
                          a.note, detail->dump()});
    }
    std::optional<int64_t> rating;
    if (h.rating && st.status == "returned") {
      rating = *h.rating;
      ++version;
    }
    std::string components = json(h.req.components).dump();
    daily::Facts facts{channel,         h.req.delivery, st.status, st.finished.has_value(), st.on_time,
                       components != "[]", rating,      st.apologies};
    p.counts = daily::Of(facts);
    const StateRule* state = rules_->State(st.status);
    bool open = state ? state->open : false;
    std::string id_number = h.req.applicant.personal_id.value_or(h.req.applicant.tax_code.value_or(""));
    p.row = {h.req.procedure_code, procedure.value("name", ""), p.receiving, st.competent, st.handling, p.unit, channel,
             h.req.delivery, st.status, version,
             applicant_self ? storage::Value(h.submitter.user_id) : storage::Null(), h.req.applicant.full_name,
             text::FoldForSearch(h.req.applicant.full_name),
             id_number.empty() ? storage::Null() : storage::Value(id_number), storage::OptText(h.req.applicant.phone),
             storage::OptText(h.req.applicant.email), h.req.applicant.address, h.req.form.dump(), components,
             storage::OptText(st.assignee), st.working_days, now, storage::OptInt(st.received_at), storage::OptInt(st.due),
             storage::OptInt(st.paused), storage::OptInt(st.finished), storage::OptInt(st.returned),
             storage::OptInt(st.on_time), st.apologies, storage::OptInt(rating),
             (open && st.due) ? *st.due : kNoDue, last};
    report.events += static_cast<int64_t>(p.events.size());
    planned.push_back(std::move(p));
  }
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    // Dossier numbers: one block per (receiving agency, day), taken atomically, so live submissions
    // running beside the load never get the same number.
    std::map<std::pair<std::string, std::string>, int64_t> need;
    for (const auto& p : planned) need[{p.receiving, p.yymmdd}]++;
    std::map<std::pair<std::string, std::string>, int64_t> next;
    for (const auto& [key, n] : need) {
      TL_ASSIGN_OR_RETURN(auto rs, s.Query("INSERT INTO dossier_sequences (agency_code, day, last_value) VALUES (?, ?, ?) "
                                           "ON CONFLICT (agency_code, day) DO UPDATE SET last_value = "
                                           "dossier_sequences.last_value + ? RETURNING last_value",
                                           {key.first, key.second, n, n}));
      next[key] = rs.rows.at(0).Int(0) - n + 1;
    }
    std::map<std::pair<std::string, int64_t>, daily::Counts> counts;
    for (auto& p : planned) {
      int64_t n = next[{p.receiving, p.yymmdd}]++;
      std::string number = std::to_string(n);
      if (number.size() < 4) number = std::string(4 - number.size(), '0') + number;
      std::string code = p.receiving + "-" + p.yymmdd + "-" + number;
      p.row.insert(p.row.begin(), code);
      TL_ASSIGN_OR_RETURN(
          auto ins,
          s.ExecV("INSERT INTO dossiers (code, procedure_code, procedure_name, receiving_agency, competent_agency, "
                  "handling_agency, unit_code, channel, delivery, status, version, applicant_user_id, applicant_name, "
                  "applicant_name_folded, applicant_id_number, applicant_phone, applicant_email, applicant_address, form, "
                  "components, assignee, working_days, submitted_at, received_at, due_at, paused_at, finished_at, "
                  "returned_at, on_time, apologies, rating, queue_key, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  p.row));
      (void)ins;
      for (auto& e : p.events) {
        e.insert(e.begin(), code);
        TL_ASSIGN_OR_RETURN(auto ev, s.ExecV("INSERT INTO dossier_events (dossier_code, seq, action, from_status, "
                                             "to_status, actor, actor_role, agency, at, note, detail) VALUES (?, ?, ?, ?, "
                                             "?, ?, ?, ?, ?, ?, ?)",
                                             e));
        (void)ev;
      }
      auto& c = counts[{p.unit, p.day}];
      for (int i = 0; i < daily::kFields; ++i) c[i] += p.counts[i];
    }
    audit::Entry e = ctx;
    e.action = "dossier.import_history";
    e.resource = "dossiers";
    e.detail = json{{"dossiers", planned.size()}, {"events", report.events}}.dump();
    TL_RETURN_IF_ERROR(audit_->Append(s, e));  // the shared counts rows last, as in AddCountsAndAudit
    for (const auto& [key, c] : counts) TL_RETURN_IF_ERROR(daily::Add(s, key.first, key.second, c));
    return Status::Ok();
  }));
  report.dossiers = static_cast<int64_t>(planned.size());
  return report;
}

}  // namespace tl::dossiers
