// One-stop shop dossiers (hồ sơ một cửa): submission, routing by competence, the lifecycle along the
// data-driven rules, working-day deadlines with pauses, queues, the applicant's view, public status
// lookup and notifications.
//
// A dossier is submitted online by a citizen or organisation (status `submitted`, waiting for the
// desk) or recorded by a desk officer for an in-person or postal submission (received at once, the
// clock starting). Its code is `<receiving agency>-<yymmdd>-<sequence of the day>` (Hà Nội date).
// Commune-level procedures are handled by the People's Committee of the chosen commune, whatever
// commune received them; city-level ones are received by the Public Administration Service Center
// and handled by the department of their sector (data/rules/sector-departments.json).
//
// Every action is checked against LifecycleRules (state, role, needs, note), the caller's
// jurisdiction (the handling agency; for desk actions also the receiving agency; the applicant for
// applicant actions), and the version the caller saw (optimistic concurrency: a stale version gets
// 409). An action updates the dossier, appends to its timeline (the control sheet, phiếu kiểm soát),
// notifies the applicant and writes the audit log in one transaction.
//
// Once-only (once_only.h): a citizen's submission may name, per component, a document of their own
// wallet instead of handing it in; the submission transaction checks that the document is theirs,
// verifies as valid and can stand for the component, and records the reference, which counts in the
// service index as reuse of digitised results.
//
// The single writer does not read back what this process committed itself: each dossier's row,
// timeline and attachments after its last submission or action here wait in a DossierCache, keyed by
// the version they are at (dossier_cache.h), for the next action. For this to hold, every change to a
// dossier's row, timeline or attachments bumps its version (actions and the rating do).
//
// Thread-safety: safe to share; the only state besides the database is that cache, which locks
// itself. EnableOnceOnly() is called once while wiring, before serving.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/http.h"
#include "modules/admin_units/admin_units.h"
#include "modules/audit/audit_log.h"
#include "modules/dossiers/daily_counts.h"
#include "modules/dossiers/dossier_cache.h"
#include "modules/dossiers/lifecycle_rules.h"
#include "modules/dossiers/once_only.h"
#include "modules/mail/mail.h"
#include "modules/procedures/procedures.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::dossiers {

// Working-day arithmetic, supplied by the application (the Vietnamese working calendar).
class Deadlines {
 public:
  virtual ~Deadlines() = default;
  // The due instant of `working_days` counted from a submission received at `received_ms`.
  virtual Result<int64_t> DueTime(int64_t received_ms, double working_days) const = 0;
  // Working time (ms of office hours) between two instants.
  virtual int64_t WorkingMillisBetween(int64_t from_ms, int64_t to_ms) const = 0;
  // The instant `working_ms` of office hours after `from_ms`.
  virtual Result<int64_t> AddWorkingMillis(int64_t from_ms, int64_t working_ms) const = 0;
  // The close of office hours on a civil date (YYYY-MM-DD, Hà Nội).
  virtual Result<int64_t> CloseOfDay(const std::string& date) const = 0;
};

// Where dossiers of city-level procedures go.
struct RoutingRules {
  std::string receiving_agency = "TTPVHCC01";
  std::string default_handling_agency = "TTPVHCC01";
  std::map<std::string, std::string> sector_agency;
  static Result<RoutingRules> Load(const std::string& path);
};

struct Applicant {
  std::string full_name;
  std::optional<std::string> personal_id;
  std::optional<std::string> tax_code;
  std::optional<std::string> phone;
  std::optional<std::string> email;
  std::string address;
};

struct AttachmentRef {
  std::string sha256;
  std::string name;
};

// A component satisfied by a document of the applicant's wallet (once-only) instead of an upload.
struct WalletReference {
  std::string component;    // one of the procedure's components
  std::string document_id;  // a document of the applicant's own wallet
};

struct StoredFile {
  std::string sha256;
  std::string content_type;
  int64_t size = 0;
  std::string bytes;
};

struct SubmitRequest {
  std::string procedure_code;
  std::optional<std::string> unit_code;  // the commune chosen (commune-level procedures)
  std::string channel;                   // online | desk | postal
  std::string delivery;                  // desk | online | post
  Applicant applicant;
  nlohmann::json form = nlohmann::json::object();
  std::vector<std::string> components;
  std::vector<AttachmentRef> attachments;  // files uploaded beforehand (POST /api/v1/attachments)
  std::vector<WalletReference> wallet_documents;  // components taken from the applicant's wallet
};

struct ActionRequest {
  int64_t version = 0;
  std::string note;
  std::optional<std::string> assignee;
  std::optional<std::string> agency;
  std::optional<std::string> new_due_date;
};

// A dossier's past, for loading a simulated history in bulk (`thanglong simulate dossiers --bulk`):
// the submission and the actions taken on it, with their times and officials.
struct HistoricalAction {
  std::string action;  // a rule's name, data/rules/dossier-lifecycle.json
  int64_t at = 0;
  std::string actor, actor_role;
  std::optional<std::string> agency;  // the actor's agency
  std::string note;
  std::optional<std::string> assignee, to_agency;  // for assign and transfer
};

struct HistoricalDossier {
  SubmitRequest req;
  http::Principal submitter;  // the applicant's account (online) or the desk officer
  int64_t submitted_at = 0;
  std::vector<HistoricalAction> actions;
  std::optional<int> rating;  // given after return
};

struct HistoryReport {
  int64_t dossiers = 0, events = 0, actions_refused = 0;
};

struct QueueQuery {
  std::string scope = "agency";  // mine | agency
  std::optional<std::string> status, procedure, channel, applicant, from, to;
  bool overdue_only = false;
  int limit = 20;
  std::optional<std::string> cursor;
};

// E-mail to applicants: with an outbox, each notification of an applicant who gave an e-mail address
// is also queued as an e-mail (same title and text, plus the public status link) in the same transaction.
struct MailOptions {
  mail::Outbox* outbox = nullptr;  // nullptr: no e-mail
  std::string public_url;          // base of the status link, e.g. "https://motcua.hanoi.gov.vn"
};

// What an issued result is, for the modules that act on it (the document wallet, the population
// registry's write-backs). Plain values: the dossier module knows nothing of its listeners.
struct IssuedResult {
  std::string dossier_code;
  std::string procedure_code;
  std::string procedure_name;
  std::string agency;  // the agency issuing the result
  std::string unit_code;  // the commune the dossier was received for
  std::string applicant_name;
  std::string applicant_id_number;  // personal id (citizens) or tax code (organisations); may be empty
  std::string form;                 // the dossier's form answers (JSON text)
  std::string actor;                // the official who issued it
  int64_t at_ms = 0;
};

// Called inside the issue-result transaction (set up by src/app): an error rolls the action back, so
// a result and everything it writes elsewhere commit together.
//
// Prepare runs before it, outside any transaction (on the caller's thread, not the single writer),
// for the result as the dossier last committed by this process shows it, when the action names that
// version: work that needs no transaction, such as signing the result the listener expects to write.
// OnResultIssued gets it back and must check that it still fits what it writes (the action may find
// the dossier changed, or the listener's own data may have moved on); it is an optimisation only.
class ResultListener {
 public:
  struct Prepared {
    virtual ~Prepared() = default;
  };
  virtual ~ResultListener() = default;
  virtual std::shared_ptr<const Prepared> Prepare(const IssuedResult& r) const {
    (void)r;
    return nullptr;
  }
  // `prepared` is what Prepare returned for this action, or null.
  virtual Status OnResultIssued(storage::Session& s, const IssuedResult& r, const Prepared* prepared) = 0;
};

class DossierService {
 public:
  void SetResultListener(ResultListener* l) { result_listener_ = l; }
  // Once-only: the component-document rules and the wallet (src/app). Without them no offers are made
  // and submissions naming wallet documents are refused.
  void EnableOnceOnly(ComponentDocumentRules rules, std::unique_ptr<const WalletDocuments> wallet) {
    once_only_rules_ = std::make_unique<const ComponentDocumentRules>(std::move(rules));
    wallet_ = std::move(wallet);
  }
  DossierService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                 procedures::ProcedureService* procedures, const admin_units::AdminUnitService* units,
                 const LifecycleRules* rules, const Deadlines* deadlines, RoutingRules routing, MailOptions mail = {})
      : db_(db),
        clock_(clock),
        audit_(audit),
        procedures_(procedures),
        units_(units),
        rules_(rules),
        deadlines_(deadlines),
        routing_(std::move(routing)),
        mail_(std::move(mail)),
        cache_(std::make_unique<DossierCache>(kCachedDossiers)) {}

  static std::vector<storage::Migration> Migrations();

  // A dossier as the API shows it: the document, its timeline, attachments, wallet references and the
  // actions the caller may take next. The json forms serve callers that read it (the simulator,
  // tests); the routes send the text forms, the same bytes written without a DOM (RenderText).
  Result<nlohmann::json> Submit(const http::Principal& who, const SubmitRequest& req, const audit::Entry& ctx);
  struct Submitted {
    std::string code;
    std::string body;  // the dossier, serialised
  };
  Result<Submitted> SubmitText(const http::Principal& who, const SubmitRequest& req, const audit::Entry& ctx);
  Result<nlohmann::json> Get(const http::Principal& who, const std::string& code);
  Result<std::string> GetText(const http::Principal& who, const std::string& code);
  Result<nlohmann::json> Act(const http::Principal& who, const std::string& code, const std::string& action,
                             const ActionRequest& req, const audit::Entry& ctx);
  // Act without holding the calling thread: `done` gets the serialised dossier (or the refusal) once
  // the action is durable. On SQLite it is called on the store's acknowledger thread (storage::
  // Database::WriteAsync), so it must be short; on PostgreSQL, before ActAsync returns.
  void ActAsync(const http::Principal& who, const std::string& code, const std::string& action,
                const ActionRequest& req, const audit::Entry& ctx, std::function<void(Result<std::string>)> done);
  Result<nlohmann::json> Queue(const http::Principal& who, const QueueQuery& q);
  Result<nlohmann::json> Counts(const http::Principal& who, const std::string& scope);
  Result<nlohmann::json> MyDossiers(const http::Principal& who, const std::optional<std::string>& cursor, int limit);
  // The public answer (status and dates only), already serialised: it is the look-up's hot path.
  Result<std::string> PublicStatus(const std::string& code, const std::string& check, const std::string& client_ip);
  Result<nlohmann::json> Notifications(const http::Principal& who, bool unread_only);
  Result<int64_t> Total() const;

  // Working days of a procedure for a channel (the procedure's own processing time).
  Result<double> WorkingDaysOf(const std::string& procedure_code, const std::string& channel);
  static double WorkingDaysOf(const nlohmann::json& procedure, const std::string& channel);
  // Where a submission goes: {receiving agency, competent agency, unit}, as Submit() routes it.
  Result<std::vector<std::string>> Route(const nlohmann::json& procedure, const std::optional<std::string>& unit,
                                         const http::Principal& who, const std::string& channel) {
    return Routing(procedure, unit, who, channel);
  }

  // Loads past dossiers in one transaction, each replayed in memory through the same routing, lifecycle
  // rules, transitions and working calendar as Submit() and Act() — an action the rules refuse ends
  // that dossier's replay (counted). Rows, timelines and the service index's daily counts are written
  // as those would have written them; per-action notifications and audit entries are not: one audit
  // entry records the load. For simulated history only; people act through Submit() and Act().
  Result<HistoryReport> ImportHistory(const std::vector<HistoricalDossier>& batch, const audit::Entry& ctx);

  // Attachments: stored once by content (SHA-256), PDF, JPEG or PNG (checked by their signature), owned
  // by whoever uploaded them; readable by their owners and by whoever may see a dossier citing them.
  Result<nlohmann::json> Upload(const http::Principal& who, const std::string& content_type, const std::string& body,
                                const audit::Entry& ctx);
  Result<StoredFile> Download(const http::Principal& who, const std::string& sha256);
  Status MarkNotificationRead(const http::Principal& who, int64_t id);
  Result<nlohmann::json> Rate(const http::Principal& who, const std::string& code, int rating, const std::string& comment,
                              const audit::Entry& ctx);

  // Once-only offers: for each component of a procedure, the caller's own signed documents that verify
  // as valid, are in date and can stand for it (citizens).
  Result<nlohmann::json> WalletOffers(const http::Principal& who, const std::string& procedure_code);
  // A wallet document a dossier references, as recorded at submission with its verification now; and
  // its file. For whoever may see the dossier (its applicant, officials of its agencies).
  Result<nlohmann::json> ReferencedDocument(const http::Principal& who, const std::string& code,
                                            const std::string& document_id);
  Result<StoredFile> ReferencedDocumentFile(const http::Principal& who, const std::string& code,
                                            const std::string& document_id);

  const LifecycleRules& rules() const { return *rules_; }

 private:
  ResultListener* result_listener_ = nullptr;
  std::unique_ptr<const ComponentDocumentRules> once_only_rules_;
  std::unique_ptr<const WalletDocuments> wallet_;
  // The names of a procedure's components (its form's `components` enum; empty when it lists none);
  // an unknown code is InvalidArgument naming `field`.
  Result<std::vector<std::string>> ComponentNames(const std::string& procedure_code, const std::string& field);
  Result<std::vector<std::string>> Routing(const nlohmann::json& procedure, const std::optional<std::string>& unit,
                                           const http::Principal& who, const std::string& channel);
  bool MayView(const http::Principal& who, const storage::Row& row) const;
  // The part of a dossier an action changes, and the pure transition along one rule: the state it
  // leads to (a transfer back to the competent agency resumes processing), the clock (start, pause,
  // resume with the working time left, stop with on-time), a new appointment after an apology. Act()
  // and ImportHistory() both go through it.
  struct LifeState {
    std::string status, handling, competent;
    std::optional<std::string> assignee;
    double working_days = 0;
    std::optional<int64_t> received_at, due, paused, finished, returned, on_time;
    int64_t apologies = 0;
  };
  static LifeState StateOf(const storage::Row& r);
  Result<nlohmann::json> Transition(const ActionRule& rule, const std::string& action,
                                    const std::optional<std::string>& assignee,
                                    const std::optional<std::string>& agency, std::optional<int64_t> new_due,
                                    int64_t now, LifeState& st) const;
  // A dossier's rows, fetched in one transaction (Load's read, or an action's own write transaction,
  // whose connection has the pages warm) and rendered outside it.
  struct DossierRows {
    std::optional<storage::Row> dossier;
    storage::ResultSet events, files, wallet_documents;
  };
  Status Fetch(storage::Session& s, const std::string& code, DossierRows& out) const;
  // Fetch's reads of the attachments and wallet references (out.dossier must be set).
  Status FetchAttachments(storage::Session& s, const std::string& code, DossierRows& out) const;
  // A dossier's rows, read for `who`: NotFound when there is none or it is out of their reach.
  Result<DossierRows> ReadVisible(const http::Principal& who, const std::string& code) const;
  // The lifecycle actions `who` may take next on the dossier in row `r` (role, jurisdiction, applicant).
  std::vector<std::string> AllowedActions(const http::Principal& who, const storage::Row& r) const;
  // The last statements of every dossier write: its audit entry, then its difference to the unit's
  // daily counts. That row is shared by every write of the unit's day, and PostgreSQL keeps it locked
  // until the commit: coming last, it is held for the commit alone instead of for the whole write
  // (which, with the audit chain's head taken inline too, held PostgreSQL's lifecycle near 65
  // dossiers/s; see audit/audit_log.h for the head).
  Status AddCountsAndAudit(storage::Session& s, const std::string& unit, int64_t day, const daily::Counts& delta,
                           const audit::Entry& entry) const;
  nlohmann::json Render(const http::Principal& who, const DossierRows& rows) const;
  // The same answer as Render(who, rows).dump(), byte for byte (keys in nlohmann's sorted order; the
  // stored form, components and event details, which are nlohmann dumps, embedded as they are),
  // without building the document: Render and its dump were ~38% of the request threads' CPU in the
  // lifecycle benchmark.
  std::string RenderText(const http::Principal& who, const DossierRows& rows) const;
  Result<DossierRows> SubmitRows(const http::Principal& who, const SubmitRequest& req, const audit::Entry& ctx);
  // An action: the checks that need no transaction (PrepareAct), then the transaction's work (ActIn),
  // which leaves the dossier's rows after the action in `call.view`. Act and ActAsync share both.
  struct ActCall {
    http::Principal who;
    std::string code, action;
    ActionRequest req;
    audit::Entry ctx;
    const ActionRule* rule = nullptr;
    int64_t now = 0;
    std::optional<int64_t> new_due;
    DossierRows view;
    int64_t queue_key = 0;  // the stored queue_key after the action
    std::shared_ptr<const ResultListener::Prepared> prepared;  // issue-result: ResultListener::Prepare's
  };
  Result<std::shared_ptr<ActCall>> PrepareAct(const http::Principal& who, const std::string& code,
                                              const std::string& action, const ActionRequest& req,
                                              const audit::Entry& ctx) const;
  Status ActIn(storage::Session& s, ActCall& call) const;
  // ActIn on the dossier row `r` (kColumns) whose stored queue_key is `stored_queue_key`; with
  // `cached`, its timeline and attachments come from there instead of being read. `updated` is set
  // once the row's UPDATE has succeeded (a failure before that, with `cached`, may be a stale entry).
  Status ActOn(storage::Session& s, ActCall& call, const storage::Row& r, int64_t stored_queue_key,
               const DossierCache::Entry* cached, bool& updated) const;
  // The result an issue-result action on the dossier in row `r` (kColumns) issues.
  static IssuedResult IssuedOf(const storage::Row& r, const std::string& actor, int64_t at_ms);
  // For an issue-result whose version this process last committed: the result listener's
  // preparation, on the calling thread, when the caller may act on the dossier.
  void PrepareResult(ActCall& call) const;
  // Keeps what `view` shows (committed at its version) for the next action.
  void Remember(DossierRows view, int64_t queue_key) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  procedures::ProcedureService* procedures_;
  const admin_units::AdminUnitService* units_;
  const LifecycleRules* rules_;
  const Deadlines* deadlines_;
  RoutingRules routing_;
  MailOptions mail_;
  // Enough for every dossier in flight at the desks of a busy city many times over; an entry is a
  // few kilobytes (the form and the timeline).
  static constexpr size_t kCachedDossiers = 4096;
  std::unique_ptr<DossierCache> cache_;

  // Queues the e-mail twin of an applicant's notification inside transaction `s`. Nothing without an
  // outbox or an address; an address the outbox cannot use is skipped rather than failing the action.
  Status MailApplicant(storage::Session& s, const std::optional<std::string>& email, const std::string& code,
                       const std::string& title, const std::string& body) const {
    if (!mail_.outbox || !email || !mail::Outbox::ValidateAddress(*email).ok()) return Status::Ok();
    std::string text = body + "\n\nTra cứu tình trạng hồ sơ " + code +
                       " (với 4 số cuối của số định danh hoặc số điện thoại): " + mail_.public_url +
                       "/tra-cuu-ho-so?code=" + code +
                       "\n\n-- \nHệ thống một cửa điện tử (thư tự động, xin đừng trả lời).\n";
    return mail_.outbox->Enqueue(s, *email, title, text).status();
  }
};

std::vector<http::Route> Routes(DossierService* service);

}  // namespace tl::dossiers
