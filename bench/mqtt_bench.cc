// MQTT end to end (issue 5 §8), for bench/mqtt.sh: publish → entity updated → alert raised.
//
//   mqtt_bench --port P --key K --token T --mqtt mqtt://127.0.0.1:B [--agency VP01] [--rate 10000]
//              [--seconds 10] [--devices 10000] [--spike-every 100] [--server-pid PID] [--warm-up 1|0]
//              [--timeline FILE]
//
// K is an API key with the scopes ngsild.read and ngsild.write; T a city administrator's bearer
// token, for the device registry.
//
// Registers `devices` flood gauges (FloodMonitoring, alertLevel 5 m, currentLevel 1 m) plus one
// new gauge per spike, through the device registry and an NGSI-LD batch upsert, and subscribes a local
// webhook twice: to FloodMonitoring entities whose currentLevel rose above 5 (q=currentLevel>5) and to
// Alert entities. Then publishes compact measurements (QoS 1, {"t": now, "currentLevel": v}) to
// devices/<id>/measurements at `rate` messages/s for `seconds`, paced every millisecond: the gauges
// in turn at 1 m (±0.1 mm), and every `spike-every`-th message a spike of 6 m on a gauge of its own,
// which the seeded rule flood-above-alert-level turns into a critical alert. Before that (unless
// --warm-up 0) every gauge reports a normal level once and the server applies it all, unmeasured.
//
// For each spike it measures, from the moment the message was handed to the MQTT client:
//   - mqtt: when a plain subscriber of the same broker (subscribed to the spike gauges' topics)
//     received it: the broker's own latency, the baseline measured in the same run;
//   - entity: when the webhook received the entity's notification (the entity committed with the
//     new level, then notified: an upper bound of "entity updated");
//   - alert: when the webhook received the notification of the Alert entity whose alertSource is the
//     gauge (the alert raised in the measurement's transaction, mirrored as an NGSI-LD entity, then
//     notified).
// It also reports the publish rate achieved and how long after the last publish the server had
// applied every message (thanglong_mqtt_messages_applied_total on /metrics) and, with --server-pid,
// the server's CPU time per message over that window (user + system, all its threads). Output lines
// "RESULT <name> <value>".
#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_http.h"
#include "modules/subscriptions/webhook_sink.h"

namespace {

using bench::Connection;
using bench::Percentile;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The Smart Data Models' terms, with the @context the platform itself holds.
std::string SdmLink(int port) {
  return "Link: <http://127.0.0.1:" + std::to_string(port) +
         "/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld>; "
         "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"\r\n";
}

std::string GaugeId(const std::string& pool, int n) {
  char buf[64];
  snprintf(buf, sizeof buf, "bench-%s-%05d", pool.c_str(), n);
  return buf;
}
std::string EntityOf(const std::string& device) { return "urn:ngsi-ld:FloodMonitoring:" + device; }

// Calls send(0 .. total-1) at `rate` per second, paced every millisecond from now.
void Paced(int64_t total, int rate, const std::function<void(int64_t)>& send) {
  const auto start = Clock::now();
  int64_t sent = 0;
  for (int64_t tick = 1; sent < total; ++tick) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(tick));
    const int64_t due = std::min(total, tick * rate / 1000);
    for (; sent < due; ++sent) send(sent);
  }
}

// A compact measurement {"t": now, "currentLevel": level} of `device`, with QoS 1.
bool PublishLevel(mosquitto* m, const std::string& device, double level) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  char payload[96];
  int n = snprintf(payload, sizeof payload, "{\"t\":%lld,\"currentLevel\":%.4f}", static_cast<long long>(now_ms), level);
  const std::string topic = "devices/" + device + "/measurements";
  return mosquitto_publish(m, nullptr, topic.c_str(), n, payload, 1, false) == MOSQ_ERR_SUCCESS;
}

// A libmosquitto client (its own network thread) for publishing, or for receiving on `subscribe`.
struct Mqtt {
  mosquitto* m = nullptr;
  std::atomic<bool> connected{false};
  std::function<void(const mosquitto_message*)> on_message;
  std::string subscribe;

  bool Connect(const std::string& host, int port, const std::string& id) {
    m = mosquitto_new(id.c_str(), true, this);
    if (!m) return false;
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
    mosquitto_max_inflight_messages_set(m, 0);  // no limit on QoS 1 messages in flight
    mosquitto_connect_callback_set(m, [](mosquitto* mq, void* obj, int rc) {
      auto* self = static_cast<Mqtt*>(obj);
      if (rc != 0) return;
      if (!self->subscribe.empty()) mosquitto_subscribe(mq, nullptr, self->subscribe.c_str(), 1);
      self->connected = true;
    });
    mosquitto_subscribe_callback_set(m, [](mosquitto*, void*, int, int, const int*) {});
    mosquitto_message_callback_set(m, [](mosquitto*, void* obj, const mosquitto_message* msg) {
      auto* self = static_cast<Mqtt*>(obj);
      if (self->on_message) self->on_message(msg);
    });
    if (mosquitto_connect(m, host.c_str(), port, 30) != MOSQ_ERR_SUCCESS) return false;
    if (mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) return false;
    for (int i = 0; i < 500 && !connected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return connected;
  }
  ~Mqtt() {
    if (!m) return;
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
  }
};

// CPU time (user + system) the process has used, in milliseconds; -1 if unknown.
double CpuMs(int pid) {
  if (pid <= 0) return -1;
  FILE* f = fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return -1;
  char buf[2048];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char* p = strrchr(buf, ')');  // the command name may hold spaces
  if (!p) return -1;
  unsigned long long utime = 0, stime = 0;
  // After ") ": state(3) ... utime is field 14, stime 15.
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int64_t AppliedOnServer(Connection& conn) {
  auto [st, body] = conn.Request("GET", "/metrics", "", "");
  if (st != 200) return -1;
  auto p = body.find("\nthanglong_mqtt_messages_applied_total ");
  if (p == std::string::npos) return -1;
  return std::stoll(body.substr(p + 39));
}

void Report(const char* name, std::vector<double> v, size_t expected) {
  printf("RESULT %s_samples %zu\n", name, v.size());
  printf("RESULT %s_lost %zu\n", name, expected > v.size() ? expected - v.size() : 0);
  printf("RESULT %s_p50_ms %.1f\n", name, Percentile(v, 0.50));
  printf("RESULT %s_p95_ms %.1f\n", name, Percentile(v, 0.95));
  printf("RESULT %s_p99_ms %.1f\n", name, Percentile(v, 0.99));
  printf("RESULT %s_max_ms %.1f\n", name, v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, rate = 10'000, seconds = 10, devices = 10'000, spike_every = 100, server_pid = 0;
  std::string timeline;  // --timeline FILE
  bool warm_up = true;
  std::string key, token, mqtt_url, agency = "VP01";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port") port = atoi(v);
    else if (k == "--key") key = v;
    else if (k == "--token") token = v;
    else if (k == "--mqtt") mqtt_url = v;
    else if (k == "--agency") agency = v;
    else if (k == "--rate") rate = atoi(v);
    else if (k == "--seconds") seconds = atoi(v);
    else if (k == "--devices") devices = atoi(v);
    else if (k == "--spike-every") spike_every = atoi(v);
    else if (k == "--server-pid") server_pid = atoi(v);
    else if (k == "--timeline") timeline = v;
    else if (k == "--warm-up") warm_up = atoi(v) != 0;
    else {
      fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::string prefix = "mqtt://";
  if (port <= 0 || key.empty() || token.empty() || mqtt_url.rfind(prefix, 0) != 0 || rate <= 0 || seconds <= 0 || devices <= 0 ||
      devices > 10'000 || spike_every < 2) {
    fprintf(stderr,
            "usage: mqtt_bench --port P --key K --token T --mqtt mqtt://HOST:PORT [--agency A] [--rate R] [--seconds S] "
            "[--devices N<=10000] [--spike-every K>=2] [--warm-up 1|0] [--timeline FILE]\n");
    return 2;
  }
  std::string hostport = mqtt_url.substr(prefix.size());
  std::string mqtt_host = hostport.substr(0, hostport.find(':'));
  int mqtt_port = hostport.find(':') == std::string::npos ? 1883 : atoi(hostport.substr(hostport.find(':') + 1).c_str());
  const int64_t total = static_cast<int64_t>(rate) * seconds;
  const int spikes = static_cast<int>(total / spike_every);
  if (spikes > 10'000) {
    fprintf(stderr, "at most 10,000 spikes (rate × seconds ÷ spike-every)\n");
    return 2;
  }

  // 1. Devices and their entities.
  Connection admin(port);
  const std::string kSdmLink = SdmLink(port);
  // The spike gauges are new in every run: an alert stays open until resolved, one per gauge.
  const std::string spike_pool = "s" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                          std::chrono::system_clock::now().time_since_epoch()).count());
  auto register_pool = [&](const std::string& pool, int n) -> bool {
    json list = json::array();
    json entities = json::array();
    for (int i = 0; i < n; ++i) {
      std::string id = GaugeId(pool, i);
      list.push_back({{"id", id},
                      {"entity_id", EntityOf(id)},
                      {"entity_type", "FloodMonitoring"},
                      {"tenant", ""},
                      {"owner_agency", agency},
                      {"attributes", {{"currentLevel", {{"name", "currentLevel"}, {"unitCode", "MTR"}}}}}});
      double lon = 105.70 + 0.3 * (i % 100) / 100.0, lat = 20.90 + 0.2 * (i / 100 % 100) / 100.0;
      entities.push_back({{"id", EntityOf(id)},
                          {"type", "FloodMonitoring"},
                          {"alertLevel", {{"type", "Property"}, {"value", 5.0}, {"unitCode", "MTR"}}},
                          {"currentLevel", {{"type", "Property"}, {"value", 1.0}, {"unitCode", "MTR"}}},
                          {"location", {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {lon, lat}}}}}}});
    }
    auto [st, body] = admin.Request("POST", "/api/v1/devices:batch", json{{"devices", list}}.dump(), token);
    if (st != 200 && st != 201) {
      fprintf(stderr, "devices:batch: HTTP %d %s\n", st, body.substr(0, 300).c_str());
      return false;
    }
    for (size_t off = 0; off < entities.size(); off += 1000) {
      json part(entities.begin() + static_cast<std::ptrdiff_t>(off),
                entities.begin() + static_cast<std::ptrdiff_t>(std::min(entities.size(), off + 1000)));
      auto [est, ebody] = admin.Request("POST", "/ngsi-ld/v1/entityOperations/upsert", part.dump(), key, kSdmLink);
      if (est != 201 && est != 204) {
        fprintf(stderr, "upsert: HTTP %d %s\n", est, ebody.substr(0, 300).c_str());
        return false;
      }
    }
    return true;
  };
  if (!register_pool("g", devices) || !register_pool(spike_pool, spikes)) return 1;

  // 2. The webhook and its two subscriptions.
  tl::testing::WebhookSink sink;
  if (!sink.Start()) {
    fprintf(stderr, "webhook did not start\n");
    return 1;
  }
  json level_sub = {{"id", "urn:ngsi-ld:Subscription:mqtt-bench-level"},
                    {"type", "Subscription"},
                    {"entities", {{{"type", "FloodMonitoring"}}}},
                    {"watchedAttributes", {"currentLevel"}},
                    {"q", "currentLevel>5"},
                    {"notification", {{"attributes", {"currentLevel"}}, {"format", "keyValues"}, {"endpoint", {{"uri", sink.url("/level")}}}}}};
  json alert_sub = {{"id", "urn:ngsi-ld:Subscription:mqtt-bench-alert"},
                    {"type", "Subscription"},
                    {"entities", {{{"type", "Alert"}}}},
                    {"notification", {{"attributes", {"alertSource"}}, {"format", "keyValues"}, {"endpoint", {{"uri", sink.url("/alert")}}}}}};
  for (const json* sub : {&level_sub, &alert_sub}) {
    admin.Request("DELETE", "/ngsi-ld/v1/subscriptions/" + (*sub)["id"].get<std::string>(), "", key);
    auto [st, body] = admin.Request("POST", "/ngsi-ld/v1/subscriptions", sub->dump(), key, kSdmLink);
    if (st != 201) {
      fprintf(stderr, "subscription: HTTP %d %s\n", st, body.c_str());
      return 1;
    }
  }

  // 3. The baseline subscriber and the publisher.
  mosquitto_lib_init();
  std::mutex mu;
  std::map<std::string, Clock::time_point> published;  // spike gauge's entity id → when handed to the client
  std::map<std::string, Clock::time_point> broker_seen;
  std::atomic<int64_t> baseline_received{0};
  Mqtt listener;  // subscribed to the spike gauges' topics only: its own load stays small
  listener.on_message = [&](const mosquitto_message* msg) {
    auto now = Clock::now();
    baseline_received++;
    std::string topic = msg->topic;
    if (topic.find("/bench-" + spike_pool + "-") == std::string::npos) return;
    std::string device = topic.substr(8, topic.size() - 8 - 13);  // devices/<id>/measurements
    std::lock_guard lock(mu);
    broker_seen.emplace(EntityOf(device), now);
  };
  if (!listener.Connect(mqtt_host, mqtt_port, "mqtt-bench-baseline")) {
    fprintf(stderr, "could not connect to %s\n", mqtt_url.c_str());
    return 1;
  }
  for (int i = 0; i < spikes; ++i) {
    std::string topic = "devices/" + GaugeId(spike_pool, i) + "/measurements";
    mosquitto_subscribe(listener.m, nullptr, topic.c_str(), 1);
  }
  Mqtt publisher;
  if (!publisher.Connect(mqtt_host, mqtt_port, "mqtt-bench-publisher")) {
    fprintf(stderr, "could not connect to %s\n", mqtt_url.c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the subscriptions settle

  // Warm-up (--warm-up 1, the default): every gauge, the spike gauges included, reports a normal level
  // once, at the same pace, and the server applies it all before anything is measured. A city's
  // gauges have reported before: their history series exist and their entities are in the server's
  // caches, as they are not right after registration (without it the first seconds of a run carry
  // every series' creation, and each spike is its gauge's first message).
  if (warm_up) {
    const int64_t warm_before = AppliedOnServer(admin);
    const int64_t warm_total = devices + spikes;
    Paced(warm_total, rate, [&](int64_t i) {
      PublishLevel(publisher.m, i < devices ? GaugeId("g", static_cast<int>(i)) : GaugeId(spike_pool, static_cast<int>(i - devices)),
                   1.0);
    });
    const auto warm_deadline = Clock::now() + std::chrono::seconds(120);
    while (AppliedOnServer(admin) - warm_before < warm_total && Clock::now() < warm_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Whatever the warm-up set off settles, including the server's first telemetry fold (every 5 s)
    // after it, which makes the open heads of all the new series: measured otherwise, that one-off
    // fold of 10,000 new heads lands in the first measured seconds.
    std::this_thread::sleep_for(std::chrono::seconds(6));
    std::lock_guard lock(mu);
    broker_seen.clear();  // the baseline subscriber saw the spike gauges' warm-up messages
  }
  const int64_t applied_before = AppliedOnServer(admin);

  const double cpu_before = CpuMs(server_pid);
  const auto start = Clock::now();
  int64_t publish_errors = 0;
  int spikes_sent = 0;
  Paced(total, rate, [&](int64_t sent) {
    std::string device;
    double level;
    if (sent % spike_every == spike_every / 2 && spikes_sent < spikes) {
      device = GaugeId(spike_pool, spikes_sent++);
      level = 6.0;
    } else {
      device = GaugeId("g", static_cast<int>(sent % devices));
      level = 1.0 + 0.0001 * static_cast<double>(sent / devices % 2);
    }
    if (level > 5) {
      std::lock_guard lock(mu);
      published.emplace(EntityOf(device), Clock::now());
    }
    if (!PublishLevel(publisher.m, device, level)) publish_errors++;
  });
  const auto publish_end = Clock::now();
  const double publish_secs = std::chrono::duration<double>(publish_end - start).count();

  // 4. Wait until the server applied everything, and the notifications arrived (up to 120 s).
  int64_t applied = 0;
  double drain_ms = -1;
  const auto deadline = publish_end + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    applied = AppliedOnServer(admin) - applied_before;
    if (applied >= total - publish_errors) {
      drain_ms = Ms(Clock::now() - publish_end);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double cpu_after = CpuMs(server_pid);
  std::map<std::string, Clock::time_point> level_seen, alert_seen;
  while (Clock::now() < deadline) {
    auto bodies = sink.Bodies();
    auto arrivals = sink.Arrivals();
    level_seen.clear();
    alert_seen.clear();
    for (size_t i = 0; i < bodies.size() && i < arrivals.size(); ++i) {
      json n = json::parse(bodies[i], nullptr, false);
      if (!n.is_object() || !n["data"].is_array()) continue;
      bool is_alert = n.value("subscriptionId", "") == "urn:ngsi-ld:Subscription:mqtt-bench-alert";
      for (const auto& e : n["data"]) {
        if (is_alert) {
          const json& src = e.contains("alertSource") ? e["alertSource"] : json();
          if (src.is_string()) alert_seen.emplace(src.get<std::string>(), arrivals[i]);
        } else if (e.contains("id") && e["id"].is_string()) {
          level_seen.emplace(e["id"].get<std::string>(), arrivals[i]);
        }
      }
    }
    if (level_seen.size() >= published.size() && alert_seen.size() >= published.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::vector<double> mqtt_ms, entity_ms, alert_ms;
  {
    std::lock_guard lock(mu);
    // --timeline FILE: one line per spike, in publish order (seconds since the first publish, then the
    // entity and alert latencies in ms; -1 when none arrived), to see when in a run the tail happens.
    if (!timeline.empty()) {
      std::vector<std::pair<Clock::time_point, std::string>> order;
      for (const auto& [entity, at] : published) order.emplace_back(at, entity);
      std::sort(order.begin(), order.end());
      if (FILE* f = fopen(timeline.c_str(), "w")) {
        for (const auto& [at, entity] : order) {
          auto lv = level_seen.find(entity);
          auto al = alert_seen.find(entity);
          fprintf(f, "%.3f %.1f %.1f\n", std::chrono::duration<double>(at - start).count(),
                  lv == level_seen.end() ? -1.0 : Ms(lv->second - at), al == alert_seen.end() ? -1.0 : Ms(al->second - at));
        }
        fclose(f);
      }
    }
    for (const auto& [entity, at] : published) {
      if (auto it = broker_seen.find(entity); it != broker_seen.end()) mqtt_ms.push_back(Ms(it->second - at));
      if (auto it = level_seen.find(entity); it != level_seen.end()) entity_ms.push_back(Ms(it->second - at));
      if (auto it = alert_seen.find(entity); it != alert_seen.end()) alert_ms.push_back(Ms(it->second - at));
    }
  }
  printf("RESULT messages %lld\n", static_cast<long long>(total));
  printf("RESULT publish_errors %lld\n", static_cast<long long>(publish_errors));
  printf("RESULT publish_rate_per_s %.0f\n", static_cast<double>(total) / publish_secs);
  printf("RESULT baseline_received %lld\n", static_cast<long long>(baseline_received.load()));
  printf("RESULT server_applied %lld\n", static_cast<long long>(applied));
  printf("RESULT server_drain_after_last_publish_ms %.0f\n", drain_ms);
  printf("RESULT server_applied_per_s %.0f\n",
         drain_ms < 0 ? 0.0 : static_cast<double>(applied) / (publish_secs + drain_ms / 1000.0));
  if (cpu_before >= 0 && cpu_after >= 0 && applied > 0) {
    printf("RESULT server_cpu_us_per_message %.1f\n", (cpu_after - cpu_before) * 1000.0 / static_cast<double>(applied));
  }
  printf("RESULT spikes %zu\n", published.size());
  Report("mqtt", mqtt_ms, published.size());
  Report("entity", entity_ms, published.size());
  Report("alert", alert_ms, published.size());
  for (const json* sub : {&level_sub, &alert_sub}) {
    admin.Request("DELETE", "/ngsi-ld/v1/subscriptions/" + (*sub)["id"].get<std::string>(), "", key);
  }
  return drain_ms < 0 || entity_ms.size() < published.size() || alert_ms.size() < published.size() ? 1 : 0;
}
