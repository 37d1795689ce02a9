// NGSI-LD notifications to a local webhook (issue 5 §8), for bench/ngsild.sh:
//
//   notify_bench --port P --key K [--entities 100000] [--clients 2] [--batch 1000] [--seconds 10]
//
// Starts a webhook on loopback (the subscriptions module's WebhookSink: a real HTTP server that
// answers 204), subscribes to pm25 of every AirQualityObserved (keyValues), then for `seconds`
// posts batch upserts (options=update) that give `batch` distinct entities a new pm25 each — a
// value unique to that update. A third of the way through, the webhook goes down for 2 seconds and
// comes back on the same port. When the updates stop, it waits (up to 120 s) until every update
// has arrived, and reports notifications/s (updates acknowledged ÷ time from the first update to the
// last arrival), how many were lost and how many came twice. The entities must exist
// (ngsild_bench load). Output lines "RESULT <name> <value>".
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_http.h"
#include "modules/subscriptions/webhook_sink.h"

namespace {

using bench::Connection;
using bench::EntityId;
using Clock = std::chrono::steady_clock;
using nlohmann::json;


}  // namespace

int main(int argc, char** argv) {
  int port = 0, entities = 100'000, clients = 2, batch = 1000, seconds = 10;
  std::string key;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port") port = atoi(v);
    else if (k == "--key") key = v;
    else if (k == "--entities") entities = atoi(v);
    else if (k == "--clients") clients = atoi(v);
    else if (k == "--batch") batch = atoi(v);
    else if (k == "--seconds") seconds = atoi(v);
    else {
      fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (port <= 0 || key.empty() || batch <= 0 || batch > 1000 || entities < batch * clients) {
    fprintf(stderr, "usage: notify_bench --port P --key K [--entities N] [--clients C] [--batch B<=1000] [--seconds S]\n");
    return 2;
  }
  tl::testing::WebhookSink sink;
  if (!sink.Start()) {
    fprintf(stderr, "webhook did not start\n");
    return 1;
  }
  const uint16_t sink_port = sink.port();
  Connection admin(port);
  json sub = {{"id", "urn:ngsi-ld:Subscription:notify-bench"},
              {"type", "Subscription"},
              {"entities", {{{"type", "AirQualityObserved"}}}},
              {"watchedAttributes", {"pm25"}},
              {"notification", {{"attributes", {"pm25"}}, {"format", "keyValues"}, {"endpoint", {{"uri", sink.url()}}}}}};
  auto [sst, sbody] = admin.Request("POST", "/ngsi-ld/v1/subscriptions", sub.dump(), key);
  if (sst != 201) {
    fprintf(stderr, "subscription: HTTP %d %s\n", sst, sbody.c_str());
    return 1;
  }
  std::atomic<int64_t> acknowledged{0}, errors{0};
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(port);
      // Each client updates its own slice of the entities, so no two batches in flight share one.
      int slice = entities / clients, first = c * slice;
      int64_t seq = 0;
      int next = 0;
      while (!stop.load()) {
        json body = json::array();
        for (int i = 0; i < batch; ++i) {
          int n = first + (next++ % slice);
          // A value unique to this update: client in the millions, sequence below.
          double value = static_cast<double>(c) * 1e9 + static_cast<double>(++seq);
          body.push_back({{"id", EntityId(n)}, {"type", "AirQualityObserved"}, {"pm25", {{"type", "Property"}, {"value", value}}}});
        }
        auto [st, answer] = conn.Request("POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", body.dump(), key);
        if (st == 204 || st == 201) {
          acknowledged += batch;
        } else {
          if (errors++ < 3) fprintf(stderr, "upsert: HTTP %d %s\n", st, answer.substr(0, 300).c_str());
          seq -= batch;  // not acknowledged: not expected either
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(std::max(1, seconds / 3)));
  sink.Stop();  // the webhook restarts
  std::this_thread::sleep_for(std::chrono::seconds(2));
  if (!sink.Start(sink_port)) {
    fprintf(stderr, "webhook did not come back on port %u\n", sink_port);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(std::max(1, seconds - seconds / 3 - 2)));
  stop = true;
  for (auto& t : threads) t.join();
  const int64_t expected = acknowledged.load();
  // Wait for every acknowledged update to arrive.
  std::set<std::pair<std::string, double>> seen;
  int64_t received = 0;
  size_t bodies_read = 0;
  auto last_arrival = Clock::now();
  auto deadline = Clock::now() + std::chrono::seconds(120);
  std::vector<std::string> bodies;
  while (Clock::now() < deadline) {
    bodies = sink.Bodies();
    for (; bodies_read < bodies.size(); ++bodies_read) {
      json n = json::parse(bodies[bodies_read], nullptr, false);
      if (!n.is_object() || !n["data"].is_array()) continue;
      for (const auto& e : n["data"]) {
        if (!e.contains("pm25") || !e["pm25"].is_number()) continue;
        ++received;
        seen.insert({e.value("id", ""), e["pm25"].get<double>()});
      }
      last_arrival = Clock::now();
    }
    if (static_cast<int64_t>(seen.size()) >= expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double secs = std::chrono::duration<double>(last_arrival - start).count();
  int64_t lost = expected - static_cast<int64_t>(seen.size());
  printf("RESULT notify_updates_acknowledged %lld\n", static_cast<long long>(expected));
  printf("RESULT notify_received %lld\n", static_cast<long long>(received));
  printf("RESULT notify_lost %lld\n", static_cast<long long>(lost < 0 ? 0 : lost));
  printf("RESULT notify_duplicates %lld\n", static_cast<long long>(received - static_cast<int64_t>(seen.size())));
  printf("RESULT notify_per_s %.0f\n", static_cast<double>(seen.size()) / secs);
  printf("RESULT notify_posts %zu\n", bodies.size());
  printf("RESULT notify_errors %lld\n", static_cast<long long>(errors.load()));
  admin.Request("DELETE", "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:notify-bench", "", key);
  return lost > 0 || errors.load() > 0 ? 1 : 0;
}
