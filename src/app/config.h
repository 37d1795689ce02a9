// Effective configuration of a thanglong process.
//
// Sources, lowest precedence first: built-in defaults, an optional TOML file (--config or
// THANGLONG_CONFIG), environment variables THANGLONG_<KEY> (upper-case key), then command-line flags.
// Every setting has one key (e.g. `listen`, `data_dir`, `database`); Describe() renders the result
// as JSON with secrets masked (for `serve --print-config`).
//
// Thread-safety: a value type; build it once at start-up.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace tl::app {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./var";
  std::string database;  // postgresql://... ; empty: embedded SQLite in data_dir
  std::string web_root;
  std::string data_root;
  bool demo = true;
  int demo_dossiers = 600;  // simulated dossiers of the last 60 days seeded with the demo data
  int demo_people = 5000;   // synthetic people in the demo population registry
  int workers = 0;          // HTTP I/O threads; Defaults(): one per core but one, at least 2
  int handler_threads = 32;  // threads running handlers (they block on storage)
  int db_pool = 0;           // storage connections; 0: half the handler threads (at least 4)
  // Embedded store's page caches in MiB: the writer connection's (the one SQLite never drops; reads
  // that go with a write run there) and each reader's (docs/operations.md, "Memory").
  int sqlite_writer_cache_mib = 256;
  int sqlite_reader_cache_mib = 16;
  size_t max_json_body = 1 << 20;
  size_t max_upload_body = 20 << 20;
  size_t max_header_bytes = 16 << 10;
  int request_timeout_s = 30;
  size_t max_connections = 1024;
  int token_ttl_hours = 12;
  int auth_cache_ms = 1000;  // how long a principal found for a token is reused (0: read it every time)
  std::string password_cost = "interactive";  // interactive | minimum (tests only)
  std::string demo_password = "ThangLong@2025";
  std::string log_level = "info";
  bool access_log = true;
  // E-mail to applicants (the mail module); off while smtp_host is empty.
  std::string public_url;          // base of links in e-mails, e.g. https://motcua.hanoi.gov.vn; empty: http://<listen>
  std::string smtp_host;
  int smtp_port = 25;
  std::string smtp_from;           // sender address, required with smtp_host
  std::string smtp_user;           // AUTH PLAIN when set
  std::string smtp_password;
  // Seals the signing keys stored in the database (32 bytes, base64url). Empty: the file
  // <data_dir>/master.key, created on first start. Every process over one database needs the same.
  std::string master_key;
  std::string smtp_tls = "auto";   // auto (STARTTLS when offered) | starttls | tls (implicit, port 465) | off
  std::string smtp_ca_file;        // extra trusted CA certificates (PEM)
  int mail_max_attempts = 8;
  // MQTT ingestion (docs/mqtt.md): off while mqtt_url is empty. The client id must be stable per
  // process (the broker keeps its session); empty: thanglong-<host name>-<listen port>.
  std::string mqtt_url;
  std::string mqtt_client_id;
  std::string mqtt_group = "thanglong";  // shared-subscription group of the processes of one deployment
  std::string mqtt_topic_prefix;          // e.g. "hanoi/": before every topic (docs/mqtt.md)
  // Telemetry history retention (docs/telemetry.md): raw samples, 1-minute and 1-hour rollups, in days.
  int telemetry_raw_days = 30;
  int telemetry_minute_days = 365;
  int telemetry_hour_days = 1825;

  static Config Defaults();
  // Applies one setting given as text (from TOML, environment or a flag); fails naming the key.
  Status Set(const std::string& key, const std::string& value);
  static const std::vector<std::string>& Keys();
  std::string Describe() const;  // JSON, secrets masked
};

// Loads defaults, then `config_file` (if set), then the environment, then `overrides` (flag values).
Result<Config> LoadConfig(const std::optional<std::string>& config_file,
                          const std::map<std::string, std::string>& overrides);

}  // namespace tl::app
