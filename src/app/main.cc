// thanglong: the single binary of the ThangLong platform. Subcommands: serve, import, users, audit,
// generate, simulate, exchange, keys, mail, migrate, version. Every subcommand works on the same store as `serve` (--data-dir /
// --database), also while a server is running.
#include <CLI/CLI.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <unistd.h>

#include "app/allocator.h"
#include "app/application.h"
#include "core/crypto.h"
#include "app/simulation.h"
#include "app/city_simulation.h"
#include "modules/calendar/calendar.h"
#include "modules/citysim/city_model.h"
#include "modules/population/generator.h"

namespace {

using tl::app::Application;
using tl::app::Config;

void SetupLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("thanglong");
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

int Fail(const tl::Status& st) {
  std::cerr << "thanglong: " << st.message();
  if (!st.field().empty()) std::cerr << " (" << st.field() << ")";
  std::cerr << "\n";
  return st.code() == tl::StatusCode::kInvalidArgument ? 2 : 1;
}

// Options shared by every subcommand that touches the store.
struct StoreFlags {
  std::optional<std::string> config_file;
  std::map<std::string, std::string> overrides;
  std::string data_dir, database;

  void Add(CLI::App* cmd) {
    cmd->add_option("--config", config_file, "TOML configuration file (also THANGLONG_CONFIG)");
    cmd->add_option("--data-dir", data_dir, "Directory of the embedded store (default ./var)");
    cmd->add_option("--database", database, "PostgreSQL URL postgresql://user@host:port/db instead of the embedded store");
  }
  tl::Result<Config> Load() {
    if (!data_dir.empty()) overrides["data_dir"] = data_dir;
    if (!database.empty()) overrides["database"] = database;
    return tl::app::LoadConfig(config_file, overrides);
  }
};

std::string ReadPasswordFromStdin() {
  if (isatty(STDIN_FILENO)) std::cerr << "Password: " << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

tl::Result<std::unique_ptr<Application>> OpenApp(StoreFlags& flags, bool quiet_logs = true) {
  TL_ASSIGN_OR_RETURN(Config cfg, flags.Load());
  SetupLogging(quiet_logs ? "warn" : cfg.log_level);
  static tl::SystemClock clock;
  return Application::Create(cfg, &clock);
}

// A one-line progress bar on standard error when it is a terminal; plain lines every 10% otherwise.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total) : label_(std::move(label)), total_(total), tty_(isatty(STDERR_FILENO)) {}
  void Update(int64_t n) {
    if (tty_) {
      if (total_ > 0) {
        int pct = static_cast<int>(100 * n / total_);
        std::string bar(static_cast<size_t>(pct / 4), '#');
        bar.resize(25, '.');
        std::cerr << "\r" << label_ << " [" << bar << "] " << pct << "% " << n << "/" << total_ << std::flush;
      } else {
        std::cerr << "\r" << label_ << " " << n << std::flush;
      }
    } else if (total_ > 0 && n * 10 / total_ > last_decile_) {
      last_decile_ = n * 10 / total_;
      std::cerr << label_ << " " << n << "/" << total_ << "\n";
    }
  }
  void Done(int64_t n) {
    if (tty_) std::cerr << "\r" << label_ << " " << n << " done" << std::string(30, ' ') << "\n";
  }

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  int64_t last_decile_ = 0;
};

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards, and returns
// the set, for the caller to wait for them (sigwait / sigtimedwait).
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int Serve(StoreFlags& flags, std::map<std::string, std::string> serve_overrides, bool print_config) {
  for (auto& [k, v] : serve_overrides) flags.overrides[k] = v;
  auto cfg = flags.Load();
  if (!cfg.ok()) return Fail(cfg.status());
  if (print_config) {
    std::cout << cfg->Describe() << "\n";
    return 0;
  }
  SetupLogging(cfg->log_level);
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals = BlockShutdownSignals();
  std::signal(SIGPIPE, SIG_IGN);

  static tl::SystemClock clock;
  {
    // First start with demo data: seed, and play a small slice of simulated traffic (the last 60 days
    // up to now) on an application whose clock the simulation moves, so queues and the dashboard live.
    tl::ManualClock sim_clock(clock.NowMillis());
    auto seeding = Application::Create(*cfg, &sim_clock);
    if (!seeding.ok()) return Fail(seeding.status());
    tl::Status seeded = (*seeding)->Seed(std::cout);
    if (!seeded.ok()) return Fail(seeded);
    auto total = (*seeding)->dossiers().Total();
    if (!total.ok()) return Fail(total.status());
    if (cfg->demo && cfg->demo_dossiers > 0 && *total == 0) {
      tl::app::SimulationOptions o;
      o.until_ms = clock.NowMillis();
      o.from_ms = o.until_ms - 60LL * 86400 * 1000;
      o.dossiers = cfg->demo_dossiers;
      o.progress = false;
      auto report = tl::app::SimulateDossiers(**seeding, sim_clock, o, std::cerr);
      if (!report.ok()) return Fail(report.status());
      std::cout << "Demo traffic: " << report->submitted << " simulated dossiers of the last 60 days ("
                << report->open << " still open) in " << static_cast<int>(report->seconds * 1000) << " ms\n";
    }
    if (cfg->demo) {
      auto people = (*seeding)->SeedDemoPopulation(cfg->demo_people);
      if (!people.ok()) return Fail(people.status());
      if (*people > 0) std::cout << "Demo population registry: " << *people << " people\n";
    }
  }
  // Everything printed about the demo data is out before /readyz answers: whoever waits for
  // readiness (start.sh, the tests) reads it complete.
  std::cout << std::flush;
  auto app = Application::Create(*cfg, &clock);
  if (!app.ok()) return Fail(app.status());
  tl::Status started = (*app)->StartServer();
  if (!started.ok()) return Fail(started);
  spdlog::info(R"("msg":"listening","url":"http://{}","port":{},"storage":{},"workers":{})", cfg->listen,
               (*app)->port(), nlohmann::json((*app)->db().Describe()).dump(), cfg->workers);
  std::cout << "ThangLong is ready: http://" << cfg->listen.substr(0, cfg->listen.rfind(':')) << ":" << (*app)->port()
            << "/" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info(R"("msg":"shutting down","signal":{})", sig);
  (*app)->Shutdown();
  app->reset();
  spdlog::info(R"("msg":"stopped cleanly")");
  spdlog::shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  (void)tl::app::TuneAllocator();  // before any thread exists (app/allocator.h)
  CLI::App cli{"ThangLong — Hà Nội's open smart-city and e-government platform"};
  cli.require_subcommand(1);
  int rc = 0;

  // serve
  auto* serve = cli.add_subcommand("serve", "Run the HTTP server (API and web front end)");
  StoreFlags serve_flags;
  serve_flags.Add(serve);
  std::string listen, web_root, log_level;
  int workers = 0;
  bool no_demo = false, print_config = false;
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_option("--web-root", web_root, "Directory of the built web front end");
  serve->add_option("--workers", workers,
                    "HTTP I/O threads, one server each (default: one per core but one, at least 2)");
  serve->add_option("--log-level", log_level, "debug, info, warn, error or off");
  serve->add_flag("--no-demo", no_demo, "Do not create demo accounts (production)");
  std::string mqtt_url;
  serve->add_option("--mqtt", mqtt_url, "MQTT broker to ingest device messages from, mqtt://host:port (also THANGLONG_MQTT_URL; docs/mqtt.md)");
  serve->add_flag("--print-config", print_config, "Print the effective configuration (secrets masked) and exit");
  serve->callback([&] {
    std::map<std::string, std::string> o;
    if (!listen.empty()) o["listen"] = listen;
    if (!web_root.empty()) o["web_root"] = web_root;
    if (!log_level.empty()) o["log_level"] = log_level;
    if (workers > 0) o["workers"] = std::to_string(workers);
    if (no_demo) o["demo"] = "false";
    if (!mqtt_url.empty()) o["mqtt_url"] = mqtt_url;
    rc = Serve(serve_flags, o, print_config);
  });

  // import
  auto* import = cli.add_subcommand("import", "Import reference data into the store (idempotent)");
  import->require_subcommand(1);
  StoreFlags import_flags;
  std::string import_file;
  auto* import_units = import->add_subcommand("admin-units", "Provinces, communes, their predecessors and agencies");
  auto* import_procs = import->add_subcommand("procedures", "The procedure catalogue (JSON)");
  for (auto* c : {import_units, import_procs}) {
    import_flags.Add(c);
    c->add_option("--file", import_file, "Source file (default: the copy shipped in data/)");
  }
  import_units->callback([&] {
    auto app = OpenApp(import_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->units().Import(import_file.empty() ? (*app)->merges_path() : import_file, (*app)->agencies_path());
    if (!r.ok()) { rc = Fail(r.status()); return; }
    std::cout << "imported " << r->provinces << " provinces, " << r->communes << " communes and wards, "
              << r->predecessors << " predecessor links, " << r->agencies << " agencies\n";
  });
  import_procs->callback([&] {
    auto app = OpenApp(import_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->procedures().Import(import_file.empty() ? (*app)->procedures_path() : import_file,
                                         "cli:import");
    if (!r.ok()) { rc = Fail(r.status()); return; }
    std::cout << "read " << r->read << " procedures: " << r->created << " new, " << r->updated << " changed, "
              << r->unchanged << " unchanged\n";
  });

  // users
  auto* users = cli.add_subcommand("users", "Manage accounts (works while the server runs)");
  users->require_subcommand(1);
  StoreFlags user_flags;
  std::string username, role, agency, full_name, personal_id, tax_code, phone;
  auto* create = users->add_subcommand("create", "Create an account; the password is read from standard input");
  user_flags.Add(create);
  create->add_option("--username", username, "Login name (a-z, 0-9, . _ -)")->required();
  create->add_option("--role", role,
                     "citizen, organisation, desk_officer, specialist, leader, agency_admin, city_admin or operator")
      ->required();
  create->add_option("--agency", agency, "Agency code, for officials (e.g. UBND00004, STP01)");
  create->add_option("--full-name", full_name, "Full name (default: the username)");
  create->add_option("--personal-id", personal_id, "12-digit personal identification number (citizens)");
  create->add_option("--tax-code", tax_code, "Tax code (organisations)");
  create->add_option("--phone", phone, "Phone number");
  create->callback([&] {
    auto app = OpenApp(user_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::identity::NewUser u;
    u.username = username;
    u.role = role;
    u.full_name = full_name.empty() ? username : full_name;
    if (!agency.empty()) u.agency_code = agency;
    if (!personal_id.empty()) u.personal_id = personal_id;
    if (!tax_code.empty()) u.tax_code = tax_code;
    if (!phone.empty()) u.phone = phone;
    u.password = ReadPasswordFromStdin();
    const char* user = std::getenv("USER");
    auto r = (*app)->identity().CreateUser(tl::identity::Actor::Cli(user ? user : "unknown"), u);
    if (!r.ok()) { rc = Fail(r.status()); return; }
    std::cout << "created " << r->username << " (" << r->role << (r->agency_code ? " @ " + *r->agency_code : "")
              << ")\n";
  });
  auto* reset = users->add_subcommand("reset-password", "Set a new password (read from standard input)");
  user_flags.Add(reset);
  reset->add_option("--username", username, "Login name")->required();
  reset->callback([&] {
    auto app = OpenApp(user_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    const char* user = std::getenv("USER");
    auto st = (*app)->identity().ResetPassword(tl::identity::Actor::Cli(user ? user : "unknown"), username,
                                               ReadPasswordFromStdin());
    if (!st.ok()) { rc = Fail(st); return; }
    std::cout << "password of " << username << " reset; its sessions were revoked\n";
  });
  auto* list = users->add_subcommand("list", "List accounts");
  user_flags.Add(list);
  bool as_json = false;
  list->add_flag("--json", as_json, "Print JSON lines");
  list->callback([&] {
    auto app = OpenApp(user_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    const char* user = std::getenv("USER");
    auto r = (*app)->identity().ListUsers(tl::identity::Actor::Cli(user ? user : "unknown"));
    if (!r.ok()) { rc = Fail(r.status()); return; }
    for (const auto& u : *r) {
      if (as_json) {
        std::cout << nlohmann::json{{"username", u.username}, {"role", u.role},
                                    {"agency_code", u.agency_code.value_or("")}, {"disabled", u.disabled}}
                         .dump()
                  << "\n";
      } else {
        std::cout << u.username << "\t" << u.role << "\t" << u.agency_code.value_or("-") << "\t"
                  << (u.disabled ? "disabled" : "active") << "\t" << u.full_name << "\n";
      }
    }
  });
  for (bool disable : {true, false}) {
    auto* cmd = users->add_subcommand(disable ? "disable" : "enable",
                                      disable ? "Disable an account and revoke its tokens" : "Re-enable an account");
    user_flags.Add(cmd);
    cmd->add_option("--username", username, "Login name")->required();
    cmd->callback([&, disable] {
      auto app = OpenApp(user_flags);
      if (!app.ok()) { rc = Fail(app.status()); return; }
      const char* user = std::getenv("USER");
      auto st = (*app)->identity().SetDisabled(tl::identity::Actor::Cli(user ? user : "unknown"), username, disable);
      if (!st.ok()) { rc = Fail(st); return; }
      std::cout << username << (disable ? " disabled\n" : " enabled\n");
    });
  }

  // audit
  auto* audit = cli.add_subcommand("audit", "Inspect the audit log");
  audit->require_subcommand(1);
  StoreFlags audit_flags;
  auto* verify = audit->add_subcommand("verify", "Recompute the hash chain; exit 1 if any entry was edited or deleted");
  audit_flags.Add(verify);
  verify->callback([&] {
    auto app = OpenApp(audit_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->audit().Verify();
    if (!r.ok()) { rc = Fail(r.status()); return; }
    if (r->intact) {
      std::cout << "audit log intact: " << r->entries << " entries verified\n";
    } else {
      std::cout << "audit log TAMPERED: " << r->problem << " (first bad entry " << r->first_bad_seq << ")\n";
      rc = 1;
    }
  });
  auto* tail = audit->add_subcommand("list", "Print the newest entries as JSON lines");
  audit_flags.Add(tail);
  int tail_n = 20;
  tail->add_option("-n,--limit", tail_n, "How many (default 20)");
  tail->callback([&] {
    auto app = OpenApp(audit_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->audit().List(0, tail_n);
    if (!r.ok()) { rc = Fail(r.status()); return; }
    for (const auto& e : *r) {
      std::cout << nlohmann::json{{"seq", e.seq}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                                  {"resource", e.resource}, {"client_ip", e.client_ip}, {"request_id", e.request_id}}
                       .dump()
                << "\n";
    }
  });

  // keys
  auto* keys = cli.add_subcommand("keys", "API keys for other agencies' systems (bound to an agency, scoped, revocable)");
  keys->require_subcommand(1);
  StoreFlags keys_flags;
  auto* keys_create = keys->add_subcommand("create", "Create a key; its secret is printed once");
  auto* keys_list = keys->add_subcommand("list", "List keys (never their secrets)");
  auto* keys_revoke = keys->add_subcommand("revoke", "Revoke a key at once");
  for (auto* c : {keys_create, keys_list, keys_revoke}) keys_flags.Add(c);
  std::string key_name, key_agency;
  std::vector<std::string> key_scopes;
  int64_t key_id = 0;
  keys_create->add_option("--name", key_name, "The system using the key, e.g. 'Cổng dịch vụ công Bộ Tư pháp'")->required();
  keys_create->add_option("--agency", key_agency, "Agency code the key acts for (its grants apply)")->required();
  keys_create->add_option("--scope", key_scopes, "Scope(s): registry.read, ngsild.read, ngsild.write")->required();
  keys_revoke->add_option("--id", key_id, "Key id (see `keys list`)")->required();
  keys_create->callback([&] {
    auto app = OpenApp(keys_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::identity::Actor actor = tl::identity::Actor::Cli(getenv("USER") ? getenv("USER") : "cli");
    auto made = (*app)->identity().CreateApiKey(actor, key_name, key_agency, key_scopes);
    if (!made.ok()) { rc = Fail(made.status()); return; }
    std::cout << "API key " << made->first.id << " for " << made->first.agency_code << " (" << key_name
              << "). Secret, shown once (send it as 'Authorization: Bearer <secret>'):\n"
              << made->second << "\n";
  });
  keys_list->callback([&] {
    auto app = OpenApp(keys_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto list = (*app)->identity().ListApiKeys();
    if (!list.ok()) { rc = Fail(list.status()); return; }
    for (const auto& k : *list) {
      std::cout << nlohmann::json{{"id", k.id}, {"name", k.name}, {"agency", k.agency_code}, {"scopes", k.scopes},
                                  {"created_at", k.created_at},
                                  {"revoked_at", k.revoked_at ? nlohmann::json(*k.revoked_at) : nlohmann::json(nullptr)}}
                       .dump()
                << "\n";
    }
  });
  keys_revoke->callback([&] {
    auto app = OpenApp(keys_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::identity::Actor actor = tl::identity::Actor::Cli(getenv("USER") ? getenv("USER") : "cli");
    tl::Status st = (*app)->identity().RevokeApiKey(actor, key_id);
    if (!st.ok()) { rc = Fail(st); return; }
    std::cout << "revoked API key " << key_id << "\n";
  });

  // generate
  auto* generate = cli.add_subcommand("generate", "Generate synthetic data");
  generate->require_subcommand(1);
  StoreFlags gen_flags;
  auto* gen_people = generate->add_subcommand(
      "population", "Realistic synthetic people of Hà Nội into the population registry (or an NDJSON file)");
  gen_flags.Add(gen_people);
  int64_t gen_count = 10000;
  uint64_t gen_seed = 1;
  std::string gen_out;
  gen_people->add_option("--people", gen_count, "How many people (default 10000; Hà Nội has about 10 million)");
  gen_people->add_option("--seed", gen_seed, "Random seed (the same seed gives the same people)");
  gen_people->add_option("--out", gen_out, "Write NDJSON to this file instead of the store ('-': standard output)");
  gen_people->callback([&] {
    auto app = OpenApp(gen_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::Status seeded = (*app)->Seed(std::cerr);
    if (!seeded.ok()) { rc = Fail(seeded); return; }
    auto units = (*app)->PopulationWeights();
    if (!units.ok()) { rc = Fail(units.status()); return; }
    tl::population::GeneratorOptions o;
    o.people = gen_count;
    o.seed = gen_seed;
    o.units = std::move(*units);
    ProgressBar bar("generating", gen_count);
    if (!gen_out.empty()) {
      std::ofstream file;
      if (gen_out != "-") {
        file.open(gen_out, std::ios::binary | std::ios::trunc);
        if (!file) { rc = Fail(tl::InvalidArgument("cannot write this file", "out")); return; }
      }
      std::ostream& out = gen_out == "-" ? std::cout : file;
      int64_t n = 0;
      tl::Status st = tl::population::GeneratePopulation(o, [&](const tl::population::Person& p) {
        out << tl::population::ToJson(p).dump() << '\n';
        if (++n % 100000 == 0) bar.Update(n);
      });
      bar.Done(n);
      if (!st.ok()) { rc = Fail(st); return; }
      if (!out) { rc = Fail(tl::Unavailable("writing the output failed")); return; }
      std::cerr << "wrote " << n << " people\n";
      return;
    }
    auto loader = (*app)->registry().StartLoad("cli:generate", {}, [&](int64_t n) { bar.Update(n); });
    tl::Status st = tl::population::GeneratePopulation(o, [&](const tl::population::Person& p) { loader->Add(p); });
    auto report = loader->Finish();
    if (!st.ok()) { rc = Fail(st); return; }
    if (!report.ok()) { rc = Fail(report.status()); return; }
    bar.Done(report->read);
    std::cout << "generated " << report->loaded << " people (" << report->rejected << " rejected) in "
              << report->seconds << " s\n";
    if (report->rejected > 0) rc = 1;
  });

  // import people | organisations: one reader, one report of rejected rows, for both registries
  StoreFlags import_rows_flags;
  std::string rows_file, rows_format, rejects_file;
  auto* import_people = import->add_subcommand("people", "People into the population registry (CSV or NDJSON)");
  auto* import_orgs = import->add_subcommand(
      "organisations", "Organisations into the population registry (CSV or NDJSON), upserted by tax code");
  for (auto* c : {import_people, import_orgs}) {
    import_rows_flags.Add(c);
    c->add_option("file,--file", rows_file, "Source file (.csv, .ndjson or .jsonl)")->required();
    c->add_option("--format", rows_format, "csv or ndjson (default: from the file name)");
    c->add_option("--rejects", rejects_file,
                  "Write rejected rows here as NDJSON (line, field, message); default: standard error");
  }
  auto import_rows = [&](bool organisations) {
    auto app = OpenApp(import_rows_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    std::string fmt = rows_format;
    if (fmt.empty()) fmt = rows_file.size() > 4 && rows_file.substr(rows_file.size() - 4) == ".csv" ? "csv" : "ndjson";
    if (fmt != "csv" && fmt != "ndjson") { rc = Fail(tl::InvalidArgument("must be csv or ndjson", "format")); return; }
    std::ifstream in(rows_file, std::ios::binary);
    if (!in) { rc = Fail(tl::InvalidArgument("cannot read this file", "file")); return; }
    std::ofstream rejects_out;
    if (!rejects_file.empty()) rejects_out.open(rejects_file, std::ios::trunc);
    std::ostream& rej = rejects_file.empty() ? std::cerr : rejects_out;
    auto on_reject = [&](const tl::population::Rejection& r) {
      rej << nlohmann::json{{"line", r.line}, {"field", r.field}, {"message", r.message}}.dump() << '\n';
    };
    ProgressBar bar("importing", 0);
    auto progress = [&](int64_t n) { bar.Update(n); };
    auto format = fmt == "csv" ? tl::population::InputFormat::kCsv : tl::population::InputFormat::kNdjson;
    auto report = organisations ? (*app)->registry().ImportOrganisations(in, format, "cli:import", on_reject, progress)
                                : (*app)->registry().Import(in, format, "cli:import", on_reject, progress);
    if (!report.ok()) { rc = Fail(report.status()); return; }
    bar.Done(report->read);
    std::cout << "read " << report->read << " rows: " << report->loaded << " imported, ";
    if (organisations) std::cout << report->unchanged << " unchanged, ";
    std::cout << report->rejected << " rejected, in " << report->seconds << " s\n";
    if (report->rejected > 0) rc = 3;
  };
  import_people->callback([&] { import_rows(false); });
  import_orgs->callback([&] { import_rows(true); });

  // exchange
  auto* exchange = cli.add_subcommand("exchange", "Data exchange between agencies");
  exchange->require_subcommand(1);
  StoreFlags exchange_flags;
  auto* verify_log = exchange->add_subcommand(
      "verify-log", "Recompute the data access log's hash chain; exit 1 if any entry was edited or deleted");
  exchange_flags.Add(verify_log);
  verify_log->callback([&] {
    auto app = OpenApp(exchange_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->access_log().Verify();
    if (!r.ok()) { rc = Fail(r.status()); return; }
    if (r->intact) {
      std::cout << "data access log intact: " << r->entries << " entries verified, " << r->seals
                << " signed seals (sealed up to entry " << r->sealed_upto << ")\n";
    } else {
      std::cout << "data access log TAMPERED: " << r->problem << " (first bad entry " << r->first_bad_seq << ")\n";
      rc = 1;
    }
  });

  // simulate
  auto* simulate = cli.add_subcommand("simulate", "Simulate city traffic through the service layer");
  simulate->require_subcommand(1);
  StoreFlags sim_flags;
  auto* sim_dossiers = simulate->add_subcommand("dossiers", "A year of one-stop-shop dossiers (4 million at --scale 1)");
  sim_flags.Add(sim_dossiers);
  int sim_year = 2025;
  double sim_scale = 0.001;
  uint64_t sim_seed = 2025;
  sim_dossiers->add_option("--year", sim_year, "Calendar year to simulate (default 2025)");
  sim_dossiers->add_option("--scale", sim_scale, "Share of Hà Nội's 4 million dossiers a year (default 0.001)");
  sim_dossiers->add_option("--seed", sim_seed, "Random seed");
  bool sim_bulk = false;
  sim_dossiers->add_flag("--bulk", sim_bulk,
                         "Decide each dossier's life in memory and load the histories in batches (same rules and "
                         "calendar, no per-action notifications or audit entries): a full year in minutes");
  sim_dossiers->callback([&] {
    auto cfg = sim_flags.Load();
    if (!cfg.ok()) { rc = Fail(cfg.status()); return; }
    SetupLogging("warn");
    if (sim_scale <= 0 || sim_scale > 10) { rc = Fail(tl::InvalidArgument("must be in (0, 10]", "scale")); return; }
    auto from = tl::ParseDate(std::to_string(sim_year) + "-01-01", "year");
    auto until = tl::ParseDate(std::to_string(sim_year + 1) + "-01-01", "year");
    if (!from.ok() || !until.ok()) { rc = Fail(tl::InvalidArgument("not a year", "year")); return; }
    tl::ManualClock sim_clock(*from);
    auto app = Application::Create(*cfg, &sim_clock);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::Status seeded = (*app)->Seed(std::cout);
    if (!seeded.ok()) { rc = Fail(seeded); return; }
    tl::app::SimulationOptions o;
    o.from_ms = *from - 7LL * 3600 * 1000;  // Hà Nội midnight
    o.until_ms = *until - 7LL * 3600 * 1000;
    o.dossiers = static_cast<int64_t>(4'000'000 * sim_scale);
    o.seed = sim_seed;
    o.bulk = sim_bulk;
    auto report = tl::app::SimulateDossiers(**app, sim_clock, o, std::cerr);
    if (!report.ok()) { rc = Fail(report.status()); return; }
    std::cout << "simulated " << report->submitted << " dossiers (" << report->actions << " actions, "
              << report->returned << " returned, " << report->open << " open, " << report->failed << " failed) in "
              << report->seconds << " s\n";
    if (report->failed > 0) rc = 1;
  });

  auto* sim_city = simulate->add_subcommand(
      "city", "Feed the operations center like real devices: air quality replaying Hà Nội's measured PM2.5, "
              "traffic, flood gauges, parking and street lights, through the NGSI-LD API");
  sim_flags.Add(sim_city);
  std::string city_url = "http://127.0.0.1:8080", city_key, city_key_file, city_start = "now", city_mqtt;
  double city_speed = 60, city_hours = 0;
  size_t city_batch = 500;
  bool city_no_create = false;
  tl::citysim::CityOptions city_opts;
  sim_city->add_option("--url", city_url, "The platform's base URL (default http://127.0.0.1:8080)");
  sim_city->add_option("--api-key", city_key,
                       "API key with the scope ngsild.write (also THANGLONG_API_KEY); without one, a key for "
                       "the City People's Committee office (VP01) is created in the store of --data-dir");
  sim_city->add_option("--key-file", city_key_file,
                       "Read the API key from this file; when it does not exist, create the key as above and "
                       "save it there (readable by the owner only), so later runs reuse it");
  sim_city->add_option("--mqtt", city_mqtt,
                       "Publish the observations as device measurements to this MQTT broker (mqtt://host:port) "
                       "instead of the NGSI-LD API; the sensors are registered as devices in the store of "
                       "--data-dir / --database first; topics start with the configured mqtt_topic_prefix");
  sim_city->add_option("--speed", city_speed,
                       "Simulated seconds per real second (default 60: an hour a minute; 1: real time; 0: as "
                       "fast as the platform takes it)");
  sim_city->add_option("--start", city_start, "Simulated start, RFC 3339 or 'now' (default now)");
  sim_city->add_option("--hours", city_hours, "Simulated hours to play (default: until Ctrl-C)");
  sim_city->add_option("--batch", city_batch, "Entities per NGSI-LD batch request (1..1000, default 500)");
  sim_city->add_flag("--no-create", city_no_create, "Do not upsert the sensors' whole entities first");
  sim_city->add_option("--seed", city_opts.seed, "Random seed (default 2026)");
  sim_city->add_option("--stations", city_opts.air_stations, "Air-quality stations (default 12)");
  sim_city->add_option("--intersections", city_opts.intersections, "Traffic intersections (default 500)");
  sim_city->add_option("--gauges", city_opts.flood_gauges, "Flood gauges (default 30)");
  sim_city->add_option("--parkings", city_opts.parkings, "Parking facilities (default 200)");
  sim_city->add_option("--streetlights", city_opts.streetlights, "Street lights (default 10000)");
  sim_city->callback([&] {
    // Ctrl-C or SIGTERM ends the run after the step in flight: blocked before any thread starts, so
    // that only the loop below sees them.
    sigset_t signals = BlockShutdownSignals();
    auto cfg = sim_flags.Load();
    if (!cfg.ok()) { rc = Fail(cfg.status()); return; }
    SetupLogging("warn");
    tl::app::CitySimulationOptions o;
    o.speed = city_speed;
    o.create = !city_no_create;
    if (city_hours < 0) { rc = Fail(tl::InvalidArgument("must be positive", "hours")); return; }
    if (city_hours > 0) o.duration_ms = static_cast<int64_t>(city_hours * 3'600'000);
    static tl::SystemClock clock;
    if (city_start == "now") {
      o.start_ms = clock.NowMillis();
    } else {
      auto start = tl::calendar::ParseRfc3339(city_start, "start");
      if (!start.ok()) { rc = Fail(start.status()); return; }
      o.start_ms = *start;
    }
    if (city_key.empty() && getenv("THANGLONG_API_KEY")) city_key = getenv("THANGLONG_API_KEY");
    if (city_key.empty() && !city_key_file.empty()) {
      std::ifstream in(city_key_file);
      if (in) std::getline(in, city_key);
    }
    std::unique_ptr<Application> local;  // the store, to create a key or register devices
    if (city_key.empty() || !city_mqtt.empty()) {
      auto app = Application::Create(*cfg, &clock);
      if (!app.ok()) { rc = Fail(app.status()); return; }
      local = std::move(*app);
    }
    if (city_key.empty()) {
      tl::identity::Actor actor = tl::identity::Actor::Cli("simulate-city");
      auto made = local->identity().CreateApiKey(actor, "Trình mô phỏng thành phố (thanglong simulate city)", "VP01",
                                                  {"ngsild.read", "ngsild.write"});
      if (!made.ok()) { rc = Fail(made.status()); return; }
      city_key = made->second;
      if (!city_key_file.empty()) {
        {
          std::ofstream out(city_key_file, std::ios::trunc);
          if (!out) { rc = Fail(tl::InvalidArgument("cannot write " + city_key_file, "key_file")); return; }
        }
        std::error_code ec;  // owner-only before the secret goes in
        std::filesystem::permissions(city_key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::replace, ec);
        std::ofstream out(city_key_file, std::ios::trunc);
        out << city_key << "\n";
        if (ec || !out) { rc = Fail(tl::InvalidArgument("cannot write " + city_key_file, "key_file")); return; }
      }
      std::cerr << "created API key " << made->first.id << " for VP01 (revoke it with `thanglong keys revoke --id "
                << made->first.id << "`)\n";
    }
    std::vector<std::string> files;
    for (int y : {2016, 2017, 2018}) files.push_back(cfg->data_root + "/air-quality/hanoi-pm25-" + std::to_string(y) + ".csv");
    auto air = tl::citysim::AirSeries::Load(files);
    if (!air.ok()) { rc = Fail(air.status()); return; }
    // Sensors stand inside the city's outline (data/geo/hanoi-outline.geojson).
    std::string outline = cfg->data_root + "/geo/hanoi-outline.geojson";
    if (std::ifstream(outline)) {
      auto ring = tl::citysim::LoadBoundary(outline);
      if (!ring.ok()) { rc = Fail(ring.status()); return; }
      city_opts.boundary = std::move(*ring);
    }
    auto city = tl::citysim::CityModel::Create(city_opts, std::move(*air));
    if (!city.ok()) { rc = Fail(city.status()); return; }
    auto feed = tl::app::NgsiLdHttpFeed(city_url, city_key, city_batch);
    if (!feed.ok()) { rc = Fail(feed.status()); return; }
    if (!city_mqtt.empty()) {
      std::vector<tl::mqtt_ingest::Device> devices;
      for (const auto& s : city->Sensors()) {
        auto d = local->devices().FromJson(tl::app::DeviceRegistration(s, "VP01"));
        if (!d.ok()) { rc = Fail(d.status()); return; }
        devices.push_back(std::move(*d));
      }
      tl::audit::Entry ctx;
      ctx.actor = "cli:simulate-city";
      for (size_t i = 0; i < devices.size(); i += tl::mqtt_ingest::kMaxDevicesPerBatch) {
        std::vector<tl::mqtt_ingest::Device> part(
            devices.begin() + static_cast<std::ptrdiff_t>(i),
            devices.begin() + static_cast<std::ptrdiff_t>(std::min(devices.size(), i + tl::mqtt_ingest::kMaxDevicesPerBatch)));
        auto registered = local->devices().RegisterBatch(std::move(part), nullptr, ctx);
        if (!registered.ok()) { rc = Fail(registered.status()); return; }
      }
      std::cerr << "registered " << devices.size() << " devices; measurements go to " << city_mqtt << "\n";
      auto mqtt = tl::app::MqttMeasurementFeed(city_mqtt, std::move(*feed), cfg->mqtt_topic_prefix);
      if (!mqtt.ok()) { rc = Fail(mqtt.status()); return; }
      feed = std::move(mqtt);
    }
    auto stop = [&signals] {
      timespec zero{0, 0};
      return sigtimedwait(&signals, nullptr, &zero) > 0;
    };
    std::cerr << "simulating " << city->Sensors().size() << " sensors from " << tl::FormatRfc3339(o.start_ms)
              << " at " << city_speed << "x into " << city_url << "\n";
    auto report = tl::app::SimulateCity(*city, **feed, o, stop, std::cerr);
    if (!report.ok()) { rc = Fail(report.status()); return; }
    std::cout << "simulated " << report->simulated_ms / 60'000 << " minutes: " << report->entities << " entities, "
              << report->observations << " observations, " << report->attribute_updates << " attribute updates in "
              << report->seconds << " s\n";
  });

  // mail
  auto* mail = cli.add_subcommand("mail", "E-mail notifications: test the SMTP settings, inspect the outbox");
  mail->require_subcommand(1);
  StoreFlags mail_flags;
  std::string mail_to, mail_which = "failed";
  int64_t mail_id = 0;
  int mail_limit = 20;
  auto* send_test = mail->add_subcommand(
      "send-test", "Send one e-mail now with the smtp_* settings (not through the outbox); print the server's answer");
  mail_flags.Add(send_test);
  send_test->add_option("--to", mail_to, "Recipient address")->required();
  send_test->callback([&] {
    auto app = OpenApp(mail_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    tl::mail::SenderOptions o = (*app)->mail_options();
    tl::Status valid = tl::mail::ValidateSettings(o.smtp);
    if (!valid.ok()) { rc = Fail(valid); return; }
    valid = tl::mail::Outbox::ValidateAddress(mail_to);
    if (!valid.ok()) { rc = Fail(valid); return; }
    tl::SystemClock clock;
    tl::mail::OutgoingMessage m{mail_to, "Thư thử nghiệm của ThangLong — một cửa điện tử",
                                "Đây là thư thử nghiệm gửi bằng `thanglong mail send-test`.\n"
                                "Nếu bạn đọc được dòng này với đầy đủ dấu tiếng Việt, cấu hình SMTP đã đúng.\n",
                                "<test-" + tl::crypto::RandomToken(12) + "@" + o.smtp.from.substr(o.smtp.from.rfind('@') + 1) + ">",
                                clock.NowMillis()};
    tl::mail::SmtpSession session(o.smtp);
    tl::mail::SendResult r = session.Open();
    if (r.ok()) r = session.Send(m);
    bool tls = session.encrypted();
    session.Quit();
    if (!r.ok()) {
      std::cerr << "thanglong: not sent (" << (r.outcome == tl::mail::Outcome::kPermanent ? "permanent" : "temporary")
                << " failure): " << r.detail << "\n";
      rc = 1;
      return;
    }
    std::cout << "sent to " << mail_to << " via " << o.smtp.host << ":" << o.smtp.port << (tls ? " (TLS)" : " (no TLS)")
              << ": " << r.detail << "\n";
  });
  auto* mail_status = mail->add_subcommand("status", "Counts of pending, retrying and given-up e-mails in the outbox");
  mail_flags.Add(mail_status);
  mail_status->callback([&] {
    auto app = OpenApp(mail_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto c = (*app)->outbox().Counts();
    if (!c.ok()) { rc = Fail(c.status()); return; }
    std::cout << nlohmann::json{{"pending", c->pending}, {"retrying", c->retrying}, {"failed", c->failed},
                                {"oldest_pending_created_at", c->oldest_pending_created_at
                                                                  ? nlohmann::json(tl::FormatRfc3339(*c->oldest_pending_created_at))
                                                                  : nlohmann::json(nullptr)}}
                     .dump()
              << "\n";
  });
  auto* mail_list = mail->add_subcommand("list", "Print outbox e-mails as JSON lines, newest first (default: given up)");
  mail_flags.Add(mail_list);
  mail_list->add_option("--which", mail_which, "failed, pending or sent")->check(CLI::IsMember({"failed", "pending", "sent"}));
  mail_list->add_option("-n,--limit", mail_limit, "How many (default 20)");
  mail_list->callback([&] {
    auto app = OpenApp(mail_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto list = (*app)->outbox().List(mail_which, mail_limit);
    if (!list.ok()) { rc = Fail(list.status()); return; }
    auto time = [](const std::optional<int64_t>& t) {
      return t ? nlohmann::json(tl::FormatRfc3339(*t)) : nlohmann::json(nullptr);
    };
    for (const auto& m : *list) {
      std::cout << nlohmann::json{{"id", m.id}, {"to", m.recipient}, {"subject", m.subject},
                                  {"created_at", tl::FormatRfc3339(m.created_at)}, {"attempts", m.attempts},
                                  {"next_attempt_at", time(m.next_attempt_at)}, {"sent_at", time(m.sent_at)},
                                  {"failed_at", time(m.failed_at)}, {"last_error", m.last_error.value_or("")}}
                       .dump()
                << "\n";
    }
  });
  auto* mail_retry = mail->add_subcommand("retry", "Put a given-up e-mail back in the queue (attempts reset)");
  mail_flags.Add(mail_retry);
  mail_retry->add_option("--id", mail_id, "The e-mail's id (from mail list)")->required();
  mail_retry->callback([&] {
    auto app = OpenApp(mail_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    auto r = (*app)->outbox().Retry(mail_id);
    if (!r.ok()) { rc = Fail(r.status()); return; }
    if (!*r) { rc = Fail(tl::NotFound("no given-up e-mail " + std::to_string(mail_id))); return; }
    std::cout << "e-mail " << mail_id << " queued again\n";
  });

  // migrate, version
  auto* migrate = cli.add_subcommand("migrate", "Apply pending schema migrations and exit");
  StoreFlags migrate_flags;
  migrate_flags.Add(migrate);
  migrate->callback([&] {
    auto app = OpenApp(migrate_flags);
    if (!app.ok()) { rc = Fail(app.status()); return; }
    std::cout << "schema up to date on " << (*app)->db().Describe() << "\n";
  });
  auto* version = cli.add_subcommand("version", "Print the version");
  version->callback([&] { std::cout << "thanglong " << tl::app::kVersion << "\n"; });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return rc;
}
