// Application: the one place that wires ThangLong's modules together.
//
// Create() opens the store (SQLite in data_dir, or PostgreSQL), applies every module's migrations
// and builds the services. Seed() imports the reference data (units, agencies, procedures) into an
// empty store and, with demo on, creates one demo account per role. StartServer() assembles the
// route tables of all modules plus the platform routes (health, readiness, metrics, OpenAPI) into a
// Dispatcher and starts the HTTP server. The CLI subcommands reach the services through accessors.
//
// Thread-safety: build and start from one thread; the services are then shared by the workers.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "app/config.h"
#include "core/clock.h"
#include "http/dispatcher.h"
#include "http/metrics.h"
#include "http/server.h"
#include "modules/admin_units/admin_units.h"
#include "modules/alerts/alerts.h"
#include "core/working_calendar.h"
#include "modules/audit/audit_log.h"
#include "modules/calendar/schedule.h"
#include "modules/dossiers/dossiers.h"
#include "modules/dossiers/service_index.h"
#include "modules/identity/identity.h"
#include "modules/exchange/access_log.h"
#include "modules/mail/mail.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"
#include "modules/ops/event_hub.h"
#include "modules/subscriptions/delivery.h"
#include "modules/subscriptions/store.h"
#include "modules/telemetry/entity_history.h"
#include "modules/telemetry/history.h"
#include "modules/population/generator.h"
#include "modules/population/population.h"
#include "modules/procedures/procedures.h"
#include "modules/wallet/wallet.h"
#include "app/service_index_feed.h"
#include "storage/database.h"

namespace tl::app {

inline constexpr const char* kVersion = "0.1.0";

class Application {
 public:
  static Result<std::unique_ptr<Application>> Create(const Config& config, const Clock* clock);
  ~Application();

  // Imports reference data into an empty store; creates demo accounts when config.demo. Writes the
  // demo credentials to `out` the first time only.
  Status Seed(std::ostream& out);
  Status StartServer();
  // Hà Nội's communes and wards weighted for the synthetic population generator.
  Result<std::vector<population::UnitWeight>> PopulationWeights();
  // Into an empty registry (demo only): the demo citizen's family plus `people` generated people.
  // Returns how many were loaded (0 when the registry already had people).
  Result<int64_t> SeedDemoPopulation(int64_t people);
  uint16_t port() const { return server_ ? server_->port() : 0; }
  void Shutdown();

  const Config& config() const { return config_; }
  storage::Database& db() { return *db_; }
  audit::AuditLog& audit() { return *audit_; }
  admin_units::AdminUnitService& units() { return *units_; }
  identity::IdentityService& identity() { return *identity_; }
  procedures::ProcedureService& procedures() { return *procedures_; }
  dossiers::DossierService& dossiers() { return *dossiers_; }
  const dossiers::ServiceIndex& service_index() const { return *service_index_; }
  mail::Outbox& outbox() { return *outbox_; }
  population::PopulationRegistry& registry() { return *registry_; }
  exchange::AccessLog& access_log() { return *access_log_; }
  exchange::Grants& grants() { return *grants_; }
  wallet::WalletService& wallet() { return *wallet_; }
  ngsild::EntityStore& ngsild() { return *ngsild_; }
  subscriptions::SubscriptionStore& subscriptions() { return *subscriptions_; }
  mqtt_ingest::DeviceRegistry& devices() { return *devices_; }
  mqtt_ingest::Ingester* mqtt_ingester() { return mqtt_ingester_.get(); }  // `serve` with mqtt_url; else null
  alerts::AlertService& alerts() { return *alerts_; }
  telemetry::TelemetryStore& telemetry() { return *telemetry_; }
  ServiceIndexFeed& service_index_feed() { return *service_index_feed_; }
  // The SMTP settings and sender policy from the configuration (smtp_*, mail_max_attempts).
  mail::SenderOptions mail_options() const;
  mail::Sender* mail_sender() { return mail_sender_.get(); }  // running in `serve` with smtp_host; else null
  // The working calendar of the official schedule as last loaded (see calendar::CalendarProvider).
  std::shared_ptr<const WorkingCalendar> calendar() const { return calendar_->Snapshot(); }
  calendar::CalendarProvider& calendar_provider() { return *calendar_; }
  http::Dispatcher& dispatcher() { return *dispatcher_; }

  std::string merges_path() const;
  std::string agencies_path() const;
  std::string procedures_path() const;

 private:
  Application(Config config, const Clock* clock) : config_(std::move(config)), clock_(clock) {}
  std::vector<http::Route> PlatformRoutes();

  Config config_;
  const Clock* clock_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<audit::HttpReadAuditor> read_auditor_;
  std::unique_ptr<admin_units::AdminUnitService> units_;
  std::unique_ptr<identity::IdentityService> identity_;
  std::unique_ptr<procedures::ProcedureService> procedures_;
  std::unique_ptr<mail::Outbox> outbox_;
  std::unique_ptr<mail::Sender> mail_sender_;
  std::unique_ptr<calendar::CalendarProvider> calendar_;
  std::unique_ptr<dossiers::Deadlines> deadlines_;
  std::unique_ptr<dossiers::LifecycleRules> lifecycle_rules_;
  std::unique_ptr<dossiers::DossierService> dossiers_;
  std::unique_ptr<dossiers::ServiceIndex> service_index_;
  std::unique_ptr<exchange::AccessLog> access_log_;
  std::unique_ptr<exchange::Grants> grants_;
  std::unique_ptr<population::PopulationRegistry> registry_;
  std::unique_ptr<wallet::WalletService> wallet_;
  std::shared_ptr<const ngsild::ContextRegistry> ngsild_contexts_;
  std::unique_ptr<ngsild::EntityStore> ngsild_;
  std::unique_ptr<subscriptions::SubscriptionStore> subscriptions_;  // a listener of ngsild_
  std::unique_ptr<alerts::AlertService> alerts_;                     // a listener of ngsild_
  std::unique_ptr<subscriptions::Deliverer> notification_deliverer_;  // `serve` only
  std::unique_ptr<telemetry::TelemetryStore> telemetry_;  // numeric entity attributes' history; `serve` maintains it
  std::unique_ptr<telemetry::EntityHistory> entity_history_;  // a listener of ngsild_ writing telemetry_
  std::unique_ptr<ops::EventHub> ops_events_;  // the operations feed's poller: started by StartServer
  std::unique_ptr<ServiceIndexFeed> service_index_feed_;  // writes into ngsild_; refreshing in `serve` only
  std::unique_ptr<exchange::SealSigner> seal_signer_;
  std::unique_ptr<dossiers::ResultListener> result_listener_;
  std::unique_ptr<http::Metrics> metrics_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<mqtt_ingest::DeviceRegistry> devices_;  // MQTT devices → entities (docs/mqtt.md)
  std::unique_ptr<mqtt_ingest::Ingester> mqtt_ingester_;  // after server_: stopped (and destroyed) first
  std::string openapi_;
  int64_t started_ms_ = 0;
};

}  // namespace tl::app
