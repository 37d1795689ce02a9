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
// Thread-safety: stateless over the database; safe to share.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/http.h"
#include "modules/admin_units/admin_units.h"
#include "modules/audit/audit_log.h"
#include "modules/dossiers/lifecycle_rules.h"
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
};

struct ActionRequest {
  int64_t version = 0;
  std::string note;
  std::optional<std::string> assignee;
  std::optional<std::string> agency;
  std::optional<std::string> new_due_date;
};

struct QueueQuery {
  std::string scope = "agency";  // mine | agency
  std::optional<std::string> status, procedure, channel, applicant, from, to;
  bool overdue_only = false;
  int limit = 20;
  std::optional<std::string> cursor;
};

class DossierService {
 public:
  DossierService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                 procedures::ProcedureService* procedures, const admin_units::AdminUnitService* units,
                 const LifecycleRules* rules, const Deadlines* deadlines, RoutingRules routing)
      : db_(db), clock_(clock), audit_(audit), procedures_(procedures), units_(units), rules_(rules),
        deadlines_(deadlines), routing_(std::move(routing)) {}

  static std::vector<storage::Migration> Migrations();

  Result<nlohmann::json> Submit(const http::Principal& who, const SubmitRequest& req, const audit::Entry& ctx);
  Result<nlohmann::json> Get(const http::Principal& who, const std::string& code);
  Result<nlohmann::json> Act(const http::Principal& who, const std::string& code, const std::string& action,
                             const ActionRequest& req, const audit::Entry& ctx);
  Result<nlohmann::json> Queue(const http::Principal& who, const QueueQuery& q);
  Result<nlohmann::json> Counts(const http::Principal& who, const std::string& scope);
  Result<nlohmann::json> MyDossiers(const http::Principal& who, const std::optional<std::string>& cursor, int limit);
  Result<nlohmann::json> PublicStatus(const std::string& code, const std::string& check, const std::string& client_ip);
  Result<nlohmann::json> Notifications(const http::Principal& who, bool unread_only);
  Result<int64_t> Total() const;

  // Attachments: stored once by content (SHA-256), PDF, JPEG or PNG (checked by their signature), owned
  // by whoever uploaded them; readable by their owners and by whoever may see a dossier citing them.
  Result<nlohmann::json> Upload(const http::Principal& who, const std::string& content_type, const std::string& body,
                                const audit::Entry& ctx);
  Result<StoredFile> Download(const http::Principal& who, const std::string& sha256);
  Status MarkNotificationRead(const http::Principal& who, int64_t id);
  Result<nlohmann::json> Rate(const http::Principal& who, const std::string& code, int rating, const std::string& comment,
                              const audit::Entry& ctx);

  const LifecycleRules& rules() const { return *rules_; }

 private:
  Result<std::vector<std::string>> Routing(const nlohmann::json& procedure, const std::optional<std::string>& unit,
                                           const http::Principal& who, const std::string& channel);
  bool MayView(const http::Principal& who, const storage::Row& row) const;
  Result<nlohmann::json> Load(const http::Principal& who, const std::string& code, bool check_view);

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  procedures::ProcedureService* procedures_;
  const admin_units::AdminUnitService* units_;
  const LifecycleRules* rules_;
  const Deadlines* deadlines_;
  RoutingRules routing_;
};

std::vector<http::Route> Routes(DossierService* service);

}  // namespace tl::dossiers
