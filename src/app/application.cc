#include "app/application.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "app/calendar_deadlines.h"
#include "app/wallet_documents.h"
#include "app/write_backs.h"
#include "core/signing.h"
#include "core/text.h"
#include "http/openapi.h"
#include "http/static_files.h"
#include "modules/alerts/routes.h"
#include "modules/calendar/calendar.h"
#include "modules/documents/documents.h"
#include "modules/ngsild/routes.h"
#include "modules/ops/routes.h"
#include "modules/subscriptions/routes.h"
#include "modules/telemetry/temporal_routes.h"
#include "storage/migrations.h"
#include "storage/sqlite/page_cache.h"

namespace tl::app {

Application::~Application() { Shutdown(); }

namespace {

// The master key that seals signing keys: from the configuration, or <data_dir>/master.key (made on
// first start, readable by the owner only).
Result<std::string> LoadMasterKey(const Config& config) {
  if (!config.master_key.empty()) {
    TL_ASSIGN_OR_RETURN(auto raw, signing::Base64UrlDecode(config.master_key));
    if (raw.size() != 32) return InvalidArgument("must be 32 bytes, base64url", "master_key");
    return config.master_key;
  }
  std::filesystem::path path = std::filesystem::path(config.data_dir) / "master.key";
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (!std::filesystem::exists(path)) {
    std::string key = signing::GenerateMasterKey();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!written) return Unavailable("cannot write " + path.string());
    }
  }
  std::ifstream in(path);
  std::string key;
  std::getline(in, key);
  auto raw = signing::Base64UrlDecode(key);
  if (!raw.ok() || raw->size() != 32) return FailedPrecondition(path.string() + " does not hold a 32-byte base64url key");
  return key;
}

std::optional<int64_t> IdAt(const nlohmann::json& form, const char* object, const char* key = "personal_id") {
  const auto o = form.find(object);
  if (o == form.end() || !o->is_object()) return std::nullopt;
  const auto v = o->find(key);
  if (v == o->end() || !v->is_string()) return std::nullopt;
  auto id = population::ParsePersonalId(v->get<std::string>(), 2199);
  return id.ok() ? std::optional<int64_t>(*id) : std::nullopt;
}

// What an issued result changes elsewhere, in the issue-result transaction: the population registry
// where the law says so (a birth adds the child, a marriage links the spouses, a permanent residence
// moves the person), and a signed document in the applicant's wallet. Write-backs need the people in
// the registry; when they are not there (the registry does not cover everyone yet) the result is
// still issued, and a contradiction (someone already married) refuses the action. A death registration
// must name a living person of the registry (write_backs.h), or the result is refused.
// The data access log's seals are signed with the platform's key, which the wallet keeps.
class WalletSealSigner final : public exchange::SealSigner {
 public:
  explicit WalletSealSigner(const wallet::WalletService* wallet) : wallet_(wallet) {}
  Result<std::pair<std::string, std::string>> Sign(storage::Session& s, std::string_view message) const override {
    return wallet_->SignAsPlatform(s, message);
  }
  Result<bool> Verify(storage::Session& s, const std::string& key_id, std::string_view message,
                      std::string_view signature) const override {
    return wallet_->VerifyPlatformSignature(s, key_id, message, signature);
  }

 private:
  const wallet::WalletService* wallet_;
};

class ResultsToRegistryAndWallet final : public dossiers::ResultListener {
 public:
  ResultsToRegistryAndWallet(population::PopulationRegistry* registry, wallet::WalletService* wallet)
      : registry_(registry), wallet_(wallet) {}

  // Ahead of the transaction: the newborn's personal id picked, and the wallet document the result
  // then becomes signed (Ed25519 signing was ~5% of the single writer's time in the lifecycle).
  // OnResultIssued uses them when the registration takes that id and the document comes out the same.
  struct Ahead final : Prepared {
    std::optional<int64_t> child_id;
    std::optional<wallet::WalletService::Presigned> document;
  };
  std::shared_ptr<const Prepared> Prepare(const dossiers::IssuedResult& r) const override {
    auto ahead = std::make_shared<Ahead>();
    std::string title;
    if (r.procedure_code == kBirthRegistration) {
      auto form = nlohmann::json::parse(r.form, nullptr, false);
      if (form.is_object()) {
        auto b = BirthOf(form, r);
        auto id = population::PopulationRegistry::CandidateChildId(b);
        if (id.ok()) {
          ahead->child_id = *id;
          title = BirthTitle(b, *id);
        }
      }
    }
    auto d = DocumentFor(r, title);
    if (d) {
      auto signed_ahead = wallet_->Presign(*d);
      if (signed_ahead.ok()) ahead->document = *std::move(signed_ahead);
    }
    return ahead;
  }

  Status OnResultIssued(storage::Session& s, const dossiers::IssuedResult& r, const Prepared* prepared) override {
    const auto* ahead = dynamic_cast<const Ahead*>(prepared);
    TL_ASSIGN_OR_RETURN(auto title, WriteBack(s, r, ahead));
    auto d = DocumentFor(r, title);
    if (!d) return Status::Ok();
    return wallet_->Issue(s, *d, r.actor, ahead && ahead->document ? &*ahead->document : nullptr).status();
  }

 private:
  static constexpr const char* kBirthRegistration = "1.001193";  // đăng ký khai sinh

  // The wallet document of the result, titled `title` (empty: "Kết quả: <procedure>"). Wallets are
  // keyed by a personal id (12 digits) or a tax code (10 digits, or 10-3 for a branch); an applicant
  // recorded without either has no wallet to put the result in (nullopt).
  static std::optional<wallet::NewDocument> DocumentFor(const dossiers::IssuedResult& r, const std::string& title) {
    const std::string& id = r.applicant_id_number;
    bool digits = !id.empty() && id.find_first_not_of("0123456789-") == std::string::npos;
    if (!digits || (id.size() != 12 && id.size() != 10 && id.size() != 14)) return std::nullopt;
    wallet::NewDocument d;
    d.holder = id;
    d.type = r.procedure_code;
    d.number = r.dossier_code;
    d.title = title.empty() ? "Kết quả: " + r.procedure_name : title;
    if (text::CodePointCount(d.title) > 300) d.title = d.title.substr(0, d.title.rfind(' ', 290));
    d.issuer_agency = r.agency;
    d.issued_on = FormatDate(r.at_ms + 7LL * 3600 * 1000);  // the Hà Nội date
    d.source = "dossier:" + r.dossier_code;
    return d;
  }

  static population::PopulationRegistry::Birth BirthOf(const nlohmann::json& form, const dossiers::IssuedResult& r) {
    population::PopulationRegistry::Birth b;
    const auto& child = form.value("child", nlohmann::json::object());
    b.full_name = child.value("full_name", "");
    b.birth_date = child.value("date_of_birth", "");
    b.sex = child.value("sex", "") == "Nữ" ? population::Sex::kFemale : population::Sex::kMale;
    b.birth_place = r.unit_code;
    b.father_id = IdAt(form, "father");
    b.mother_id = IdAt(form, "mother");
    auto applicant = population::ParsePersonalId(r.applicant_id_number, 2199);
    std::string rel = form.value("relationship", "");
    if (applicant.ok() && rel == "Cha" && !b.father_id) b.father_id = *applicant;
    if (applicant.ok() && rel == "Mẹ" && !b.mother_id) b.mother_id = *applicant;
    return b;
  }

  static std::string BirthTitle(const population::PopulationRegistry::Birth& b, int64_t child_id) {
    return "Giấy khai sinh: " + b.full_name + " (" + population::FormatPersonalId(child_id) + ")";
  }

  // Returns a better title for the wallet document when the write-back names someone.
  Result<std::string> WriteBack(storage::Session& s, const dossiers::IssuedResult& r, const Ahead* ahead) {
    auto form = nlohmann::json::parse(r.form, nullptr, false);
    if (!form.is_object()) return std::string();
    const std::string source = "dossier:" + r.dossier_code;
    auto skip_unknown = [](const Status& st) { return st.code() == StatusCode::kNotFound ? Status::Ok() : st; };
    if (r.procedure_code == kBirthRegistration) {
      population::PopulationRegistry::Birth b = BirthOf(form, r);
      if (ahead) b.candidate_id = ahead->child_id;
      auto child_id = registry_->RegisterBirth(s, b, r.actor, source);
      if (!child_id.ok()) {
        TL_RETURN_IF_ERROR(skip_unknown(child_id.status()));
        return std::string();
      }
      return BirthTitle(b, *child_id);
    }
    if (r.procedure_code == "1.000894") {  // đăng ký kết hôn
      auto husband = IdAt(form, "husband");
      auto wife = IdAt(form, "wife");
      if (!husband || !wife) return std::string();
      TL_RETURN_IF_ERROR(skip_unknown(registry_->RegisterMarriage(s, *husband, *wife, r.actor, source)));
      return std::string("Giấy chứng nhận kết hôn");
    }
    if (r.procedure_code == "1.004222") {  // đăng ký thường trú
      auto person = IdAt(form, "person");
      if (!person) return std::string();
      auto head = IdAt(form, "head_of_household");
      std::string rel = form.value("head_of_household", nlohmann::json::object()).value("relationship", "");
      std::string role = rel.find("Chủ hộ") != std::string::npos ? "head"
                         : (rel == "Vợ" || rel == "Chồng") ? "spouse"
                         : rel.rfind("Con", 0) == 0        ? "child"
                         : (rel == "Cha" || rel == "Mẹ")   ? "parent"
                                                           : "other";
      TL_RETURN_IF_ERROR(skip_unknown(registry_->RegisterPermanentResidence(
          s, *person, r.unit_code, form.value("new_address", ""), head, role, r.actor, source)));
    }
    if (IsDeathRegistration(r.procedure_code)) {  // đăng ký khai tử: refuses an unknown or already deceased person
      const auto& deceased = form.value("deceased", nlohmann::json::object());
      auto person = IdAt(form, "deceased");
      if (!person) {
        return Status(StatusCode::kFailedPrecondition, "the deceased's personal id is missing or invalid",
                      "form.deceased.personal_id");
      }
      TL_RETURN_IF_ERROR(registry_->RegisterDeath(s, *person,
                                                  form.value("death", nlohmann::json::object()).value("date_of_death", ""),
                                                  r.actor, source, "form.deceased.personal_id",
                                                  "form.death.date_of_death"));
      return "Trích lục khai tử: " + deceased.value("full_name", std::string()) + " (" +
             population::FormatPersonalId(*person) + ")";
    }
    return std::string();
  }

  population::PopulationRegistry* registry_;
  wallet::WalletService* wallet_;
};

}  // namespace

Result<std::unique_ptr<Application>> Application::Create(const Config& config, const Clock* clock) {
  TL_RETURN_IF_ERROR(crypto::InitCrypto());
  std::unique_ptr<Application> app(new Application(config, clock));
  int pool = config.db_pool > 0 ? config.db_pool : std::max(4, config.handler_threads / 2);
  TL_ASSIGN_OR_RETURN(app->db_, storage::Open(config.database, config.data_dir, pool,
                                                storage::SqliteCacheSizes{config.sqlite_writer_cache_mib,
                                                                          config.sqlite_reader_cache_mib}));
  std::vector<storage::Migration> migrations;
  for (auto* list : {audit::AuditLog::Migrations, admin_units::AdminUnitService::Migrations,
                     identity::IdentityService::Migrations, procedures::ProcedureService::Migrations,
                     dossiers::DossierService::Migrations, calendar::CalendarProvider::Migrations,
                     mail::Outbox::Migrations, exchange::AccessLog::Migrations, exchange::Grants::Migrations,
                     population::PopulationRegistry::Migrations, wallet::WalletService::Migrations,
                     ngsild::EntityStore::Migrations, subscriptions::SubscriptionStore::Migrations}) {
    auto m = list();
    migrations.insert(migrations.end(), m.begin(), m.end());
  }
  auto telemetry_migrations = telemetry::TelemetryStore::Migrations(app->db_->dialect());  // per dialect
  migrations.insert(migrations.end(), telemetry_migrations.begin(), telemetry_migrations.end());
  auto alert_migrations = alerts::AlertService::Migrations();
  migrations.insert(migrations.end(), alert_migrations.begin(), alert_migrations.end());
  auto device_migrations = mqtt_ingest::DeviceRegistry::Migrations();
  migrations.insert(migrations.end(), device_migrations.begin(), device_migrations.end());
  TL_ASSIGN_OR_RETURN(int applied, storage::ApplyMigrations(*app->db_, std::move(migrations)));
  if (applied > 0) spdlog::info(R"("msg":"schema migrations applied","count":{})", applied);

  app->audit_ = std::make_unique<audit::AuditLog>(app->db_.get(), clock);
  app->read_auditor_ = std::make_unique<audit::HttpReadAuditor>(app->audit_.get());
  app->units_ = std::make_unique<admin_units::AdminUnitService>(app->db_.get(), "01");
  identity::IdentityOptions opts;
  opts.password_cost =
      config.password_cost == "minimum" ? crypto::PasswordCost::Minimum() : crypto::PasswordCost::Interactive();
  opts.token_ttl_ms = int64_t{config.token_ttl_hours} * 3600 * 1000;
  opts.principal_cache_ms = config.auth_cache_ms;
  app->identity_ = std::make_unique<identity::IdentityService>(app->db_.get(), clock, app->audit_.get(),
                                                               app->units_.get(), opts);
  app->procedures_ = std::make_unique<procedures::ProcedureService>(app->db_.get(), clock, app->audit_.get());
  // E-mail: the outbox always exists (the CLI inspects it); dossiers queue mail only when SMTP is configured.
  app->outbox_ = std::make_unique<mail::Outbox>(app->db_.get(), clock);
  dossiers::MailOptions mail;
  if (!config.smtp_host.empty()) {
    TL_RETURN_IF_ERROR(mail::ValidateSettings(app->mail_options().smtp));
    mail.outbox = app->outbox_.get();
    mail.public_url = config.public_url.empty() ? "http://" + config.listen : config.public_url;
  }

  // The official schedule lives in the database; the data file only seeds it on the first start.
  app->calendar_ = std::make_unique<calendar::CalendarProvider>(app->db_.get(), clock, app->audit_.get());
  const std::string schedule_path = config.data_root + "/calendar/official-schedules.json";
  TL_ASSIGN_OR_RETURN(int seeded, app->calendar_->SeedIfNeverSeeded(
                                      [&schedule_path] { return LoadScheduleFile(schedule_path); }, "system:seed"));
  if (seeded > 0) spdlog::info(R"("msg":"seeded the official holiday schedule","entries":{})", seeded);
  TL_ASSIGN_OR_RETURN(auto loaded, app->calendar_->Current());
  (void)loaded;
  app->deadlines_ = std::make_unique<CalendarDeadlines>(app->calendar_.get());
  TL_ASSIGN_OR_RETURN(auto rules, dossiers::LifecycleRules::Load(config.data_root + "/rules/dossier-lifecycle.json"));
  app->lifecycle_rules_ = std::make_unique<dossiers::LifecycleRules>(std::move(rules));
  TL_ASSIGN_OR_RETURN(auto routing, dossiers::RoutingRules::Load(config.data_root + "/rules/sector-departments.json"));
  app->dossiers_ = std::make_unique<dossiers::DossierService>(app->db_.get(), clock, app->audit_.get(),
                                                              app->procedures_.get(), app->units_.get(),
                                                              app->lifecycle_rules_.get(), app->deadlines_.get(),
                                                              std::move(routing), std::move(mail));
  TL_ASSIGN_OR_RETURN(auto indicators,
                      dossiers::ServiceIndex::LoadRules(config.data_root + "/rules/service-index-766.json"));
  app->service_index_ = std::make_unique<dossiers::ServiceIndex>(app->db_.get(), clock, std::move(indicators), "01");
  app->access_log_ = std::make_unique<exchange::AccessLog>(app->db_.get(), clock, app->audit_.get());
  app->grants_ = std::make_unique<exchange::Grants>(app->db_.get(), clock, app->audit_.get());
  app->registry_ = std::make_unique<population::PopulationRegistry>(app->db_.get(), clock, app->audit_.get(),
                                                                     app->access_log_.get(), app->grants_.get());
  TL_RETURN_IF_ERROR(app->grants_->Publish(population::PopulationRegistry::Service()));
  TL_RETURN_IF_ERROR(app->grants_->Publish(population::PopulationRegistry::OrganisationService()));
  TL_ASSIGN_OR_RETURN(auto master_key, LoadMasterKey(config));
  app->wallet_ = std::make_unique<wallet::WalletService>(app->db_.get(), clock, app->audit_.get(), std::move(master_key));
  app->seal_signer_ = std::make_unique<WalletSealSigner>(app->wallet_.get());
  app->access_log_->SetSealSigner(app->seal_signer_.get());
  app->result_listener_ = std::make_unique<ResultsToRegistryAndWallet>(app->registry_.get(), app->wallet_.get());
  app->dossiers_->SetResultListener(app->result_listener_.get());
  // Once-only: dossiers reference documents of the applicant's wallet (rules as data).
  TL_ASSIGN_OR_RETURN(auto once_only,
                      dossiers::ComponentDocumentRules::Load(config.data_root + "/rules/component-document-types.json"));
  app->dossiers_->EnableOnceOnly(std::move(once_only), std::make_unique<WalletDocumentsOfWallet>(app->wallet_.get()));
  TL_ASSIGN_OR_RETURN(app->ngsild_contexts_,
                      ngsild::ContextRegistry::Load(config.data_root + "/ngsi-ld",
                                                    config.public_url.empty() ? "http://" + config.listen
                                                                              : config.public_url));
  app->ngsild_ = std::make_unique<ngsild::EntityStore>(app->db_.get(), clock);
  // NGSI-LD subscriptions: matching entity changes become outbox rows inside the entity's transaction.
  app->subscriptions_ = std::make_unique<subscriptions::SubscriptionStore>(app->db_.get(), clock, app->ngsild_contexts_);
  app->ngsild_->AddListener(app->subscriptions_.get());
  // MQTT devices: which entity a device's compact measurements update (docs/mqtt.md).
  app->devices_ = std::make_unique<mqtt_ingest::DeviceRegistry>(app->db_.get(), clock, app->audit_.get(),
                                                                app->ngsild_contexts_);
  // Operations center alerts: rules (data/rules/alert-rules.json seeds the database once) evaluated in
  // the entity's transaction; alerts mirrored as NGSI-LD Alert entities by StartServer's tasks.
  app->alerts_ = std::make_unique<alerts::AlertService>(app->db_.get(), clock, app->audit_.get(), app->ngsild_.get(),
                                                        app->ngsild_contexts_);
  app->ngsild_->AddListener(app->alerts_.get());
  const std::string alert_rules_path = config.data_root + "/rules/alert-rules.json";
  TL_ASSIGN_OR_RETURN(int alert_rules,
                      app->alerts_->SeedIfNeverSeeded(
                          [&alert_rules_path] { return alerts::LoadRulesFile(alert_rules_path); }, "system:seed"));
  if (alert_rules > 0) spdlog::info(R"("msg":"seeded the alert rules","rules":{})", alert_rules);
  // Telemetry history: numeric Properties of every entity write, recorded in the write's transaction.
  telemetry::TelemetryOptions history;
  history.retention = {int64_t{config.telemetry_raw_days} * telemetry::kMillisPerDay,
                       int64_t{config.telemetry_minute_days} * telemetry::kMillisPerDay,
                       int64_t{config.telemetry_hour_days} * telemetry::kMillisPerDay};
  if (!history.retention.Validate().ok()) {
    return InvalidArgument("must be at most telemetry_minute_days, itself at most telemetry_hour_days",
                           "telemetry_raw_days");
  }
  TL_ASSIGN_OR_RETURN(app->telemetry_, telemetry::TelemetryStore::Open(app->db_.get(), history));
  app->entity_history_ = std::make_unique<telemetry::EntityHistory>(app->telemetry_.get());
  app->ngsild_->AddListener(app->entity_history_.get());
  // The operations centre's live feed polls the entity store (so it sees every process's writes) and
  // names attributes as the Smart Data Models context does.
  const ngsild::HeldContext* sdm_held = app->ngsild_contexts_->FindById("thanglong-smart-data-models.jsonld");
  if (!sdm_held) return FailedPrecondition("data/ngsi-ld holds no thanglong-smart-data-models.jsonld");
  TL_ASSIGN_OR_RETURN(auto sdm, app->ngsild_contexts_->FromUrl(sdm_held->url));
  app->ops_events_ = std::make_unique<ops::EventHub>(app->ngsild_.get(), sdm, clock);
  // The one-stop shop's live service index, one NGSI-LD entity per commune, for the operations center.
  TL_ASSIGN_OR_RETURN(auto unit_locations, LoadUnitLocations(config.data_root + "/geo/hanoi-units.geojson"));
  app->service_index_feed_ = std::make_unique<ServiceIndexFeed>(app->service_index_.get(), app->units_.get(),
                                                                app->ngsild_.get(), app->ngsild_contexts_->Default(),
                                                                clock, std::move(unit_locations));
  return app;
}

// The reference data has no population per unit, so a unit's share follows the number of pre-2025
// units it was formed from (each held a comparable population), urban wards (phường) denser by half.
Result<std::vector<population::UnitWeight>> Application::PopulationWeights() {
  TL_ASSIGN_OR_RETURN(auto units, units_->List(std::string("01")));
  std::vector<population::UnitWeight> out;
  for (const auto& u : units) {
    TL_ASSIGN_OR_RETURN(auto detail, units_->Get(u.code));
    bool ward = u.name.rfind("Phường", 0) == 0;
    out.push_back({u.code, u.name, static_cast<double>(std::max<size_t>(1, detail.second.size())) * (ward ? 1.5 : 1.0)});
  }
  if (out.empty()) return FailedPrecondition("no communes of Hà Nội in the store; run `thanglong import admin-units`");
  return out;
}

Result<int64_t> Application::SeedDemoPopulation(int64_t people) {
  TL_ASSIGN_OR_RETURN(int64_t existing, registry_->Count());
  if (existing > 0) return int64_t{0};
  // The demo citizen (account "citizen", 001090012345), his wife and their son, in Phường Ba Đình.
  auto loader = registry_->StartLoad("system:seed");
  auto add = [&](const char* ndjson) -> Status {
    TL_ASSIGN_OR_RETURN(auto p, population::PersonFromJson(nlohmann::json::parse(ndjson)));
    loader->Add(std::move(p));
    return Status::Ok();
  };
  TL_RETURN_IF_ERROR(add(R"({"personal_id":"001090012345","full_name":"Nguyễn Văn An","birth_date":"1990-03-15","sex":"male","birth_place":"00004","permanent_unit":"00004","permanent_address":"Số 12 phố Quán Thánh","household_id":"001090012345","household_role":"head","spouse_id":"001192034567"})"));
  TL_RETURN_IF_ERROR(add(R"({"personal_id":"001192034567","full_name":"Trần Thị Mai","birth_date":"1992-07-01","sex":"female","birth_place":"Thái Bình","permanent_unit":"00004","permanent_address":"Số 12 phố Quán Thánh","household_id":"001090012345","household_role":"spouse","spouse_id":"001090012345"})"));
  TL_RETURN_IF_ERROR(add(R"({"personal_id":"001219045678","full_name":"Nguyễn Minh Khôi","birth_date":"2019-09-09","sex":"male","birth_place":"00004","permanent_unit":"00004","permanent_address":"Số 12 phố Quán Thánh","household_id":"001090012345","household_role":"child","father_id":"001090012345","mother_id":"001192034567"})"));
  if (people > 0) {
    TL_ASSIGN_OR_RETURN(auto units, PopulationWeights());
    population::GeneratorOptions o;
    o.people = people;
    o.seed = 2026;
    o.units = std::move(units);
    TL_RETURN_IF_ERROR(population::GeneratePopulation(o, [&](const population::Person& p) { loader->Add(p); }));
  }
  TL_ASSIGN_OR_RETURN(auto report, loader->Finish());
  // The demo organisation (account "org"), represented by the demo citizen.
  population::Organisation org;
  org.tax_code = "0101234567";
  org.name = "Công ty TNHH Thăng Long Số";
  org.representative_id = 1090012345;
  org.representative_name = "Nguyễn Văn An";
  org.address = "Số 5 phố Điện Biên Phủ, Phường Ba Đình, Hà Nội";
  org.unit_code = "00004";
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) { return registry_->SaveOrganisation(s, org); }));
  return report.loaded;
}

std::string Application::merges_path() const { return config_.data_root + "/admin-units/merges-20250701.json"; }
std::string Application::agencies_path() const { return config_.data_root + "/agencies/hanoi-city-agencies.csv"; }
std::string Application::procedures_path() const { return config_.data_root + "/procedures/tthc-province-commune.json"; }

Status Application::Seed(std::ostream& out) {
  TL_ASSIGN_OR_RETURN(bool units_empty, units_->IsEmpty());
  if (units_empty) {
    TL_ASSIGN_OR_RETURN(auto r, units_->Import(merges_path(), agencies_path()));
    spdlog::info(R"("msg":"imported administrative units","provinces":{},"communes":{},"agencies":{})", r.provinces,
                 r.communes, r.agencies);
  }
  TL_ASSIGN_OR_RETURN(bool procs_empty, procedures_->IsEmpty());
  if (procs_empty) {
    TL_ASSIGN_OR_RETURN(auto r, procedures_->Import(procedures_path(), "system:seed"));
    spdlog::info(R"("msg":"imported procedure catalogue","procedures":{})", r.created);
  }
  if (!config_.demo) return Status::Ok();
  identity::Actor system = identity::Actor::Cli("seed");
  system.context.actor = "system:seed";
  TL_ASSIGN_OR_RETURN(auto existing, identity_->ListUsers(system));
  if (!existing.empty()) return Status::Ok();
  struct Demo {
    const char* username;
    const char* role;
    const char* full_name;
    const char* agency;
    const char* personal_id;
    const char* tax_code;
  };
  const Demo demos[] = {
      {"admin", "city_admin", "Quản trị Thành phố", nullptr, nullptr, nullptr},
      {"citizen", "citizen", "Nguyễn Văn An", nullptr, "001090012345", nullptr},
      {"org", "organisation", "Công ty TNHH Thăng Long Số", nullptr, nullptr, "0101234567"},
      {"desk", "desk_officer", "Trần Thị Bình", "UBND00004", nullptr, nullptr},
      {"specialist", "specialist", "Lê Minh Châu", "UBND00004", nullptr, nullptr},
      {"leader", "leader", "Phạm Quốc Dũng", "UBND00004", nullptr, nullptr},
      {"agencyadmin", "agency_admin", "Hoàng Thu Hà", "UBND00004", nullptr, nullptr},
      {"operator", "operator", "Vũ Đức Giang", "VP01", nullptr, nullptr},
  };
  out << "\nDemo accounts (password for all: " << config_.demo_password << "):\n";
  for (const auto& d : demos) {
    identity::NewUser u;
    u.username = d.username;
    u.password = config_.demo_password;
    u.role = d.role;
    u.full_name = d.full_name;
    if (d.agency) u.agency_code = d.agency;
    if (d.personal_id) u.personal_id = d.personal_id;
    if (d.tax_code) u.tax_code = d.tax_code;
    TL_ASSIGN_OR_RETURN(auto created, identity_->CreateUser(system, u));
    out << "  " << created.username << std::string(14 - created.username.size(), ' ') << created.role
        << (d.agency ? std::string(" @ ") + d.agency : std::string()) << "\n";
  }
  // Demo grants, for a year, to settle administrative procedures: every commune's People's
  // Committee, the Service Center and the Department of Justice read the population data service;
  // the communes and the Service Center also read the organisations' (so a desk officer's look-up
  // of the demo company shows in the "org" account's log of who read its data).
  auto grant = [&](const std::string& agency, const exchange::DataService& service, const char* legal_basis) {
    exchange::NewGrant g;
    g.consumer_agency = agency;
    g.service = service.code;
    g.fields = service.fields;
    g.legal_basis = legal_basis;
    g.purpose = "Giải quyết thủ tục hành chính";
    g.expires_at_ms = clock_->NowMillis() + 365LL * 86400 * 1000;
    return grants_->Create(g, system.context).status();
  };
  TL_ASSIGN_OR_RETURN(auto agencies, units_->ListAgencies(std::nullopt, std::nullopt));
  for (const auto& a : agencies) {
    const bool commune_or_centre = a.kind == "commune_committee" || a.code == "TTPVHCC01";
    if (commune_or_centre || a.code == "STP01") {
      TL_RETURN_IF_ERROR(grant(a.code, population::PopulationRegistry::Service(),
                               "Luật Căn cước 2023; Nghị định 69/2024/NĐ-CP (dữ liệu mẫu)"));
    }
    if (commune_or_centre) {
      TL_RETURN_IF_ERROR(grant(a.code, population::PopulationRegistry::OrganisationService(),
                               "Luật Doanh nghiệp 2020 (dữ liệu mẫu)"));
    }
  }
  out << "These are printed only once. Start with --no-demo in production.\n\n";
  out.flush();
  return Status::Ok();
}

std::vector<http::Route> Application::PlatformRoutes() {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back({Method::kGet, "/healthz", Access::Public(),
               [](http::Request&) -> Result<http::Response> {
                 return http::Response::Json(200, R"({"status":"ok"})");
               },
               {"Liveness: the process answers", "platform", {}, "",
                R"({"type":"object","properties":{"status":{"type":"string"}}})"}});
  r.push_back({Method::kGet, "/readyz", Access::Public(),
               [this](http::Request&) -> Result<http::Response> {
                 Status st = db_->Ping();
                 if (!st.ok()) return Unavailable("storage is not reachable");
                 return http::Response::Json(200, nlohmann::json{{"status", "ready"}, {"storage", db_->dialect() == storage::Dialect::kSqlite ? "sqlite" : "postgresql"}}.dump());
               },
               {"Readiness: storage reachable", "platform", {}, "",
                R"({"type":"object","properties":{"status":{"type":"string"},"storage":{"type":"string"}}})"}});
  r.push_back({Method::kGet, "/metrics", Access::Public(),
               [this](http::Request&) -> Result<http::Response> {
                 http::Response resp;
                 resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 resp.body = metrics_->Render();
                 return resp;
               },
               {"Prometheus metrics", "platform", {}, "", ""}});
  r.push_back({Method::kGet, "/api/openapi.json", Access::Public(),
               [this](http::Request&) -> Result<http::Response> { return http::Response::Json(200, openapi_); },
               {"This OpenAPI 3.1 document", "platform", {}, "", R"({"type":"object"})"}});
  r.push_back({Method::kGet, "/api/v1/version", Access::Public(),
               [this](http::Request&) -> Result<http::Response> {
                 return http::Response::Json(
                     200, nlohmann::json{{"version", kVersion},
                                         {"storage", db_->dialect() == storage::Dialect::kSqlite ? "sqlite" : "postgresql"},
                                         {"started_at", FormatRfc3339(started_ms_)}}
                              .dump());
               },
               {"Server version and storage backend", "platform", {}, "",
                R"({"type":"object","properties":{"version":{"type":"string"},"storage":{"type":"string"}}})"}});
  return r;
}

Status Application::StartServer() {
  started_ms_ = clock_->NowMillis();
  metrics_ = std::make_unique<http::Metrics>();
  http::DispatcherOptions dopts;
  dopts.max_json_body = config_.max_json_body;
  dopts.max_upload_body = config_.max_upload_body;
  dopts.access_log = config_.access_log;
  dopts.quick_routes_inline = db_->dialect() == storage::Dialect::kSqlite;
  dispatcher_ = std::make_unique<http::Dispatcher>(dopts, metrics_.get());
  dispatcher_->SetAuthenticator(identity_.get());
  dispatcher_->SetAuditor(read_auditor_.get());
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(PlatformRoutes()));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(identity::Routes(identity_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(admin_units::Routes(units_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(procedures::Routes(procedures_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(audit::Routes(audit_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(dossiers::Routes(dossiers_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(dossiers::ServiceIndexRoutes(service_index_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(documents::Routes(dossiers_.get(), units_.get(), wallet_.get(),
                                                              config_.public_url)));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(calendar::Routes(calendar_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(population::Routes(registry_.get(), access_log_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(exchange::GrantRoutes(grants_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(exchange::ReportRoutes(access_log_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(wallet::Routes(wallet_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(ngsild::Routes(ngsild_.get(), ngsild_contexts_)));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(subscriptions::Routes(subscriptions_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(mqtt_ingest::Routes(devices_.get())));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(alerts::Routes(alerts_.get())));
  TL_RETURN_IF_ERROR(
      dispatcher_->AddRoutes(telemetry::TemporalRoutes(ngsild_.get(), telemetry_.get(), ngsild_contexts_, clock_)));
  TL_RETURN_IF_ERROR(dispatcher_->AddRoutes(ops::Routes(ops_events_.get())));
  openapi_ = http::BuildOpenApi(dispatcher_->routes(), kVersion);
  // Other processes may edit the official schedule: check its revision every second, so that due dates
  // computed inside dossier transactions (which must not wait on the database) follow within a second.
  calendar_->StartRefresher(std::chrono::seconds(1), [](const Status& st) {
    spdlog::warn(R"("msg":"cannot refresh the official holiday schedule","error":"{}")", st.message());
  });
  // On PostgreSQL, audit entries are chained off the writers' path (see audit/audit_log.h).
  audit_->StartChainer(std::chrono::milliseconds(100), [](const Status& st) {
    spdlog::warn(R"("msg":"cannot chain the pending audit entries","error":"{}")", st.message());
  });
  // The platform signs the data access log's head every second (a seal; see exchange/access_log.h).
  access_log_->StartSealer(std::chrono::seconds(1), [](const Status& st) {
    spdlog::warn(R"("msg":"cannot seal the data access log","error":"{}")", st.message());
  });

  auto files = http::StaticFiles::Load(config_.web_root);
  if (files.ok()) {
    dispatcher_->SetStaticFiles(*files);
  } else {
    spdlog::warn(R"("msg":"web front end not found; serving the API only","web_root":"{}")", config_.web_root);
  }

  storage::Database* db = db_.get();
  auto stat = [db](int64_t storage::PoolStats::*field) {
    return [db, field] { return static_cast<double>(db->Stats().*field); };
  };
  metrics_->AddExternal({"thanglong_storage_connections", "Storage connections open", "gauge",
                         stat(&storage::PoolStats::connections_total)});
  metrics_->AddExternal({"thanglong_storage_connections_in_use", "Storage connections in use", "gauge",
                         stat(&storage::PoolStats::connections_in_use)});
  metrics_->AddExternal({"thanglong_storage_transactions_committed_total", "Committed transactions", "counter",
                         stat(&storage::PoolStats::transactions_committed)});
  metrics_->AddExternal({"thanglong_storage_transactions_rolled_back_total", "Rolled-back transactions", "counter",
                         stat(&storage::PoolStats::transactions_rolled_back)});
  metrics_->AddExternal({"thanglong_storage_write_batches_total",
                         "Embedded store: batches of writes committed together (group commit)", "counter",
                         stat(&storage::PoolStats::write_batches)});
  metrics_->AddExternal(
      {"thanglong_storage_write_batch_reruns_total",
       "Embedded store: batches of rerunnable writes run again, each in a savepoint, after one failed", "counter",
       stat(&storage::PoolStats::write_batch_reruns)});
  metrics_->AddExternal({"thanglong_storage_flushes_total",
                         "Embedded store: flushes of the WAL to disk, each covering the batches committed since the last",
                         "counter", stat(&storage::PoolStats::flushes)});
  metrics_->AddExternal({"thanglong_storage_read_snapshots_reused_total",
                         "Embedded store: reads served in the read transaction their connection kept open (nothing "
                         "committed since)",
                         "counter", stat(&storage::PoolStats::read_snapshots_reused)});
  metrics_->AddExternal({"thanglong_storage_connection_waits_total", "Waits for a free storage connection", "counter",
                         stat(&storage::PoolStats::waits_for_connection)});
  if (db_->dialect() == storage::Dialect::kSqlite) {
    // Process-wide: every SQLite connection of this process (storage/sqlite/page_cache.h).
    metrics_->AddExternal({"thanglong_storage_page_cache_truncations_skipped_total",
                           "Embedded store: end-of-transaction cache truncations skipped (no page past the end)",
                           "counter", [] { return static_cast<double>(storage::TrackedPageCacheCounts().skipped); }});
    metrics_->AddExternal(
        {"thanglong_storage_page_cache_truncations_total",
         "Embedded store: cache truncations passed to SQLite's page cache (a reader's cache emptied after other "
         "connections committed, pages past the end after a rollback)",
         "counter", [] { return static_cast<double>(storage::TrackedPageCacheCounts().passed); }});
  }

  http::ServerOptions sopts;
  TL_RETURN_IF_ERROR(http::ParseListen(config_.listen, &sopts.host, &sopts.port));
  sopts.workers = config_.workers;
  sopts.handler_threads = config_.handler_threads;
  sopts.max_header_bytes = config_.max_header_bytes;
  sopts.max_body_bytes = std::max(config_.max_upload_body, config_.max_json_body) + (1 << 20);
  sopts.request_timeout = std::chrono::seconds(config_.request_timeout_s);
  sopts.max_connections = config_.max_connections;
  server_ = std::make_unique<http::Server>(sopts, dispatcher_.get());
  http::Server* server = server_.get();
  metrics_->AddExternal({"thanglong_http_open_connections", "Open HTTP connections", "gauge",
                         [server] { return static_cast<double>(server->open_connections()); }});
  ops::EventHub* hub = ops_events_.get();
  metrics_->AddExternal({"thanglong_ops_event_streams", "Operations feed streams open in this process", "gauge",
                         [hub] { return static_cast<double>(hub->client_count()); }});
  if (!config_.smtp_host.empty()) {
    mail_sender_ = std::make_unique<mail::Sender>(outbox_.get(), clock_, mail_options());
    mail::Sender* sender = mail_sender_.get();
    mail::Outbox* outbox = outbox_.get();
    metrics_->AddExternal({"thanglong_mail_sent_total", "E-mails this process handed to the SMTP server", "counter",
                           [sender] { return static_cast<double>(sender->sent_total()); }});
    metrics_->AddExternal({"thanglong_mail_retried_total", "E-mail attempts that failed and were rescheduled", "counter",
                           [sender] { return static_cast<double>(sender->retried_total()); }});
    metrics_->AddExternal({"thanglong_mail_failed_total", "E-mails given up (5xx reply or too many attempts)", "counter",
                           [sender] { return static_cast<double>(sender->failed_total()); }});
    metrics_->AddExternal({"thanglong_mail_outbox_pending", "E-mails waiting in the outbox (all processes)", "gauge",
                           [outbox] {
                             auto n = outbox->PendingCount();
                             return n.ok() ? static_cast<double>(*n) : -1.0;
                           }});
  }
  TL_RETURN_IF_ERROR(server_->Start());
  if (mail_sender_) mail_sender_->Start();  // only `serve` starts servers, so only `serve` sends mail
  // NGSI-LD notifications: drained from the outbox by every serving process (leases keep them apart).
  notification_deliverer_ = std::make_unique<subscriptions::Deliverer>(subscriptions_.get(), clock_);
  notification_deliverer_->Start();
  // MQTT ingestion once the server is ready (docs/mqtt.md): a persistent session under a stable client
  // id, a share of the group's subscriptions, messages applied in batches through the entity store.
  if (!config_.mqtt_url.empty()) {
    mqtt_ingest::IngesterOptions mo;
    mo.url = config_.mqtt_url;
    mo.client_id = config_.mqtt_client_id;
    if (mo.client_id.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      mo.client_id = std::string("thanglong-") + host + "-" + std::to_string(port());
    }
    mo.group = config_.mqtt_group;
    mo.topic_prefix = config_.mqtt_topic_prefix;
    // The messages taken from the broker and not yet applied, kept across a crash: one journal per
    // client id (the broker's session it stands for) under the data directory.
    std::string journal_name = mo.client_id;
    for (char& ch : journal_name) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ch = '_';
    }
    mo.journal_dir = (std::filesystem::path(config_.data_dir) / "mqtt-journal" / journal_name).string();
    // SQLite has one writer (two lanes, one parsing while the other writes, measured no better:
    // the sensors' entities are in the doc cache already); on PostgreSQL a write mostly waits
    // (round trips, commit), so four write at once.
    mo.workers = db_->dialect() == storage::Dialect::kPostgres ? 4 : 1;
    mqtt_ingester_ = std::make_unique<mqtt_ingest::Ingester>(mo, ngsild_.get(), devices_.get(), ngsild_contexts_, clock_);
    mqtt_ingester_->ExportMetrics(metrics_.get());
    TL_RETURN_IF_ERROR(mqtt_ingester_->Start());
  }
  // Alerts: missing data and escalation every 2 s, the Alert entity mirror every second (any process).
  alerts_->Start(std::chrono::seconds(2), std::chrono::seconds(1));
  // Telemetry maintenance (fold, seal, roll up, expire) every 5 s; safe in every serving process.
  telemetry_->StartMaintenance(clock_, std::chrono::seconds(5), [](const Status& st) {
    spdlog::warn(R"("msg":"telemetry maintenance failed","error":"{}")", st.message());
  });
  // The change log's dead rows (EntityStore::PruneChanges): up to 50,000 rows looked at every 2 s,
  // on a niced thread; an idle store does nothing.
  ngsild_->StartMaintenance(std::chrono::seconds(2), 50000, [](const Status& st) {
    spdlog::warn(R"("msg":"NGSI-LD change log pruning failed","error":"{}")", st.message());
  });
  ops_events_->Start();
  service_index_feed_->Start(std::chrono::minutes(1));
  return Status::Ok();
}

mail::SenderOptions Application::mail_options() const {
  mail::SenderOptions o;
  o.smtp.host = config_.smtp_host;
  o.smtp.port = config_.smtp_port;
  o.smtp.from = config_.smtp_from;
  o.smtp.from_name = "Một cửa điện tử Hà Nội";
  o.smtp.user = config_.smtp_user;
  o.smtp.password = config_.smtp_password;
  o.smtp.tls = config_.smtp_tls;
  o.smtp.ca_file = config_.smtp_ca_file;
  o.max_attempts = config_.mail_max_attempts;
  return o;
}

void Application::Shutdown() {
  if (mqtt_ingester_) mqtt_ingester_->Stop();  // applies what it received; the broker keeps the rest
  if (service_index_feed_) service_index_feed_->Stop();
  if (notification_deliverer_) {
    notification_deliverer_->Stop();  // at most one POST in flight (10 s timeout); undelivered rows stay queued
    notification_deliverer_.reset();
  }
  if (mail_sender_) {
    mail_sender_->Stop();  // prompt: interrupts a waiting SMTP conversation and gives its claims back
    mail_sender_.reset();
  }
  if (calendar_) calendar_->StopRefresher();
  if (alerts_) alerts_->Stop();
  if (telemetry_) telemetry_->StopMaintenance();  // a run in progress finishes first
  if (ngsild_) ngsild_->StopMaintenance();
  if (ops_events_) ops_events_->Stop();  // ends the operations streams, so the server drains at once
  if (server_) {
    server_->Shutdown();
    server_.reset();
  }
  if (access_log_) access_log_->StopSealer();  // before the wallet that signs goes
  if (audit_) {
    audit_->StopChainer();
    audit_->ChainPending().status().IgnoreError();  // what the last requests wrote; the next start would too
  }
}

}  // namespace tl::app
