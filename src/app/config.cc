#include "app/config.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <toml++/toml.h>

#include "storage/postgres/postgres_database.h"

#ifndef THANGLONG_WEB_ROOT
#define THANGLONG_WEB_ROOT "web/dist"
#endif
#ifndef THANGLONG_DATA_ROOT
#define THANGLONG_DATA_ROOT "data"
#endif

namespace tl::app {
namespace {

Result<long long> ParseInt(const std::string& key, const std::string& v, long long min, long long max) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max) {
    return InvalidArgument("must be a whole number from " + std::to_string(min) + " to " + std::to_string(max), key);
  }
  return n;
}

Result<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgument("must be true or false", key);
}

}  // namespace

Config Config::Defaults() {
  Config c;
  c.web_root = THANGLONG_WEB_ROOT;
  c.data_root = THANGLONG_DATA_ROOT;
  // HTTP I/O threads: one per core but one, and at least two. The core left over on a larger machine
  // runs what the I/O threads hand on (the handler pool, the store's writer and syncer). On 2 cores,
  // one I/O thread was saturated by quick reads near 20,000 req/s, and its p99 at that fixed rate ran
  // to hundreds of milliseconds; two (one server each, http/server.h) kept it at a few milliseconds,
  // for ~5% fewer lifecycle dossiers/s, whose single writer they take CPU from
  // (docs/benchmarks-ngsild.md, 2026-11-24).
  const unsigned cores = std::thread::hardware_concurrency();
  c.workers = static_cast<int>(cores > 3 ? cores - 1 : 2);
  return c;
}

const std::vector<std::string>& Config::Keys() {
  static const std::vector<std::string> kKeys = {
      "listen",          "data_dir",         "database",        "web_root",       "data_root",
      "demo",            "demo_dossiers",    "demo_people",    "workers",          "handler_threads", "db_pool",
      "sqlite_writer_cache_mib", "sqlite_reader_cache_mib",         "max_json_body",  "max_upload_body",
      "max_header_bytes", "request_timeout_s", "max_connections", "token_ttl_hours", "auth_cache_ms", "password_cost",
      "demo_password",   "log_level",        "access_log",      "public_url",      "smtp_host",      "smtp_port",
      "smtp_from",       "smtp_user",        "smtp_password",   "smtp_tls",        "smtp_ca_file",   "mail_max_attempts", "master_key",
      "telemetry_raw_days", "telemetry_minute_days", "telemetry_hour_days",
      "mqtt_url", "mqtt_client_id", "mqtt_group", "mqtt_topic_prefix"};
  return kKeys;
}

Status Config::Set(const std::string& key, const std::string& v) {
  if (key == "listen") listen = v;
  else if (key == "data_dir") data_dir = v;
  else if (key == "database") database = v;
  else if (key == "web_root") web_root = v;
  else if (key == "data_root") data_root = v;
  else if (key == "demo") { TL_ASSIGN_OR_RETURN(demo, ParseBool(key, v)); }
  else if (key == "access_log") { TL_ASSIGN_OR_RETURN(access_log, ParseBool(key, v)); }
  else if (key == "workers") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 256)); workers = static_cast<int>(n); }
  else if (key == "demo_people") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 0, 10000000)); demo_people = static_cast<int>(n); }
  else if (key == "demo_dossiers") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 0, 10000000)); demo_dossiers = static_cast<int>(n); }
  else if (key == "handler_threads") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 1024)); handler_threads = static_cast<int>(n); }
  else if (key == "db_pool") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 0, 1024)); db_pool = static_cast<int>(n); }
  else if (key == "sqlite_writer_cache_mib") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 1 << 20)); sqlite_writer_cache_mib = static_cast<int>(n); }
  else if (key == "sqlite_reader_cache_mib") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 1 << 20)); sqlite_reader_cache_mib = static_cast<int>(n); }
  else if (key == "max_json_body") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1024, 1LL << 30)); max_json_body = static_cast<size_t>(n); }
  else if (key == "max_upload_body") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1024, 1LL << 31)); max_upload_body = static_cast<size_t>(n); }
  else if (key == "max_header_bytes") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1024, 1 << 20)); max_header_bytes = static_cast<size_t>(n); }
  else if (key == "request_timeout_s") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 3600)); request_timeout_s = static_cast<int>(n); }
  else if (key == "max_connections") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 1000000)); max_connections = static_cast<size_t>(n); }
  else if (key == "token_ttl_hours") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 24 * 365)); token_ttl_hours = static_cast<int>(n); }
  else if (key == "auth_cache_ms") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 0, 60000)); auth_cache_ms = static_cast<int>(n); }
  else if (key == "password_cost") {
    if (v != "interactive" && v != "minimum") return InvalidArgument("must be interactive or minimum", key);
    password_cost = v;
  } else if (key == "demo_password") {
    if (v.size() < 10) return InvalidArgument("must be at least 10 characters", key);
    demo_password = v;
  } else if (key == "public_url") {
    if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) return InvalidArgument("must start with http:// or https://", key);
    public_url = v;
    while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  } else if (key == "smtp_host") smtp_host = v;
  else if (key == "smtp_port") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 65535)); smtp_port = static_cast<int>(n); }
  else if (key == "smtp_from") smtp_from = v;
  else if (key == "smtp_user") smtp_user = v;
  else if (key == "smtp_password") smtp_password = v;
  else if (key == "master_key") master_key = v;
  else if (key == "smtp_ca_file") smtp_ca_file = v;
  else if (key == "telemetry_raw_days") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 36500)); telemetry_raw_days = static_cast<int>(n); }
  else if (key == "telemetry_minute_days") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 36500)); telemetry_minute_days = static_cast<int>(n); }
  else if (key == "telemetry_hour_days") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 36500)); telemetry_hour_days = static_cast<int>(n); }
  else if (key == "mqtt_url") {
    if (!v.empty() && v.rfind("mqtt://", 0) != 0 && v.rfind("tcp://", 0) != 0) return InvalidArgument("must be mqtt://host:port", key);
    mqtt_url = v;
  } else if (key == "mqtt_client_id") {
    if (v.size() > 200) return InvalidArgument("at most 200 characters", key);
    mqtt_client_id = v;
  } else if (key == "mqtt_group") {
    if (v.empty() || v.find_first_of("/+#") != std::string::npos) return InvalidArgument("a name without / + #", key);
    mqtt_group = v;
  } else if (key == "mqtt_topic_prefix") {
    if (v.find_first_of("+#") != std::string::npos || (!v.empty() && v.back() != '/')) return InvalidArgument("empty, or ending with / and without + #", key);
    mqtt_topic_prefix = v;
  }
  else if (key == "mail_max_attempts") { TL_ASSIGN_OR_RETURN(auto n, ParseInt(key, v, 1, 100)); mail_max_attempts = static_cast<int>(n); }
  else if (key == "smtp_tls") {
    if (v != "auto" && v != "starttls" && v != "tls" && v != "off") return InvalidArgument("must be auto, starttls, tls or off", key);
    smtp_tls = v;
  } else if (key == "log_level") {
    if (v != "debug" && v != "info" && v != "warn" && v != "error" && v != "off") {
      return InvalidArgument("must be debug, info, warn, error or off", key);
    }
    log_level = v;
  } else {
    return InvalidArgument("unknown setting '" + key + "'", key);
  }
  return Status::Ok();
}

std::string Config::Describe() const {
  nlohmann::json j = {{"listen", listen},
                      {"data_dir", data_dir},
                      {"database", database.empty() ? std::string("(embedded SQLite in data_dir)")
                                                    : storage::MaskPostgresUrl(database)},
                      {"web_root", web_root},
                      {"data_root", data_root},
                      {"demo", demo},
                      {"demo_dossiers", demo_dossiers},
                      {"demo_people", demo_people},
                      {"workers", workers},
                      {"handler_threads", handler_threads},
                      {"db_pool", db_pool},
                      {"sqlite_writer_cache_mib", sqlite_writer_cache_mib},
                      {"sqlite_reader_cache_mib", sqlite_reader_cache_mib},
                      {"max_json_body", max_json_body},
                      {"max_upload_body", max_upload_body},
                      {"max_header_bytes", max_header_bytes},
                      {"request_timeout_s", request_timeout_s},
                      {"max_connections", max_connections},
                      {"token_ttl_hours", token_ttl_hours},
                      {"auth_cache_ms", auth_cache_ms},
                      {"password_cost", password_cost},
                      {"demo_password", "***"},
                      {"log_level", log_level},
                      {"access_log", access_log},
                      {"public_url", public_url},
                      {"smtp_host", smtp_host},
                      {"smtp_port", smtp_port},
                      {"smtp_from", smtp_from},
                      {"smtp_user", smtp_user},
                      {"smtp_password", smtp_password.empty() ? "" : "***"},
                      {"master_key", master_key.empty() ? "" : "***"},
                      {"smtp_tls", smtp_tls},
                      {"smtp_ca_file", smtp_ca_file},
                      {"mail_max_attempts", mail_max_attempts},
                      {"mqtt_url", mqtt_url},
                      {"mqtt_client_id", mqtt_client_id},
                      {"mqtt_group", mqtt_group},
                      {"mqtt_topic_prefix", mqtt_topic_prefix},
                      {"telemetry_raw_days", telemetry_raw_days},
                      {"telemetry_minute_days", telemetry_minute_days},
                      {"telemetry_hour_days", telemetry_hour_days}};
  return j.dump(2);
}

Result<Config> LoadConfig(const std::optional<std::string>& config_file,
                          const std::map<std::string, std::string>& overrides) {
  Config c = Config::Defaults();
  std::optional<std::string> file = config_file;
  if (!file) {
    if (const char* env = std::getenv("THANGLONG_CONFIG"); env && *env) file = env;
  }
  if (file) {
    toml::table tbl;
    try {
      tbl = toml::parse_file(*file);
    } catch (const toml::parse_error& e) {
      return InvalidArgument(std::string("cannot read TOML configuration: ") + std::string(e.description()), *file);
    }
    for (const auto& [k, node] : tbl) {
      std::string key(k.str());
      std::string value;
      if (auto s = node.value<std::string>(); s && node.is_string()) value = *s;
      else if (node.is_boolean()) value = *node.value<bool>() ? "true" : "false";
      else if (node.is_integer()) value = std::to_string(*node.value<int64_t>());
      else return InvalidArgument("must be a string, number or boolean", key);
      TL_RETURN_IF_ERROR(c.Set(key, value));
    }
  }
  for (const auto& key : Config::Keys()) {
    std::string env = "THANGLONG_";
    for (char ch : key) env += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (const char* v = std::getenv(env.c_str()); v && *v) {
      Status st = c.Set(key, v);
      if (!st.ok()) return InvalidArgument(st.message(), env);
    }
  }
  for (const auto& [k, v] : overrides) TL_RETURN_IF_ERROR(c.Set(k, v));
  return c;
}

}  // namespace tl::app
