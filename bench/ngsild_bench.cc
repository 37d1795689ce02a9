// NGSI-LD broker load for bench/ngsild.sh: loading entities and batch upserts through the HTTP API.
//
//   ngsild_bench load --port P --key K [--entities 100000] [--clients 2]
//       creates N AirQualityObserved entities (urn:ngsi-ld:AirQualityObserved:B-000000 ...) spread
//       uniformly over Hà Nội's bounding box, by batch upserts of 1,000; reports entities/s.
//   ngsild_bench upsert --port P --key K [--entities 100000] [--batch 1000] [--attrs 4] [--clients 4]
//                       [--seconds 10]
//       each client posts batch upserts (options=update) of `batch` distinct random entities with
//       `attrs` numeric attributes each (observedAt now); reports attribute updates/s and the
//       latency of a batch.
// Output lines "RESULT <name> <value>" for the script.
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_http.h"

namespace {

using bench::Connection;
using bench::EntityId;
using bench::Percentile;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string mode;
  int port = 0;
  std::string key;
  int entities = 100'000, clients = 2, batch = 1000, attrs = 4, seconds = 10;
};


const char* kAttrs[] = {"pm25", "pm10", "no2", "o3", "co", "so2", "temperature", "relativeHumidity"};

int Load(const Args& a) {
  std::atomic<int> next{0}, errors{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(a.port);
      std::mt19937_64 rng(c + 1);
      std::uniform_real_distribution<double> lon(105.285, 106.020), lat(20.564, 21.386), v(5, 200);
      while (true) {
        int first = next.fetch_add(1000);
        if (first >= a.entities) break;
        json batch = json::array();
        for (int n = first; n < std::min(a.entities, first + 1000); ++n) {
          json e = {{"id", EntityId(n)},
                    {"type", "AirQualityObserved"},
                    {"location", {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {lon(rng), lat(rng)}}}}}}};
          for (int k = 0; k < 4; ++k) e[kAttrs[k]] = {{"type", "Property"}, {"value", v(rng)}};
          batch.push_back(std::move(e));
        }
        auto [st, body] = conn.Request("POST", "/ngsi-ld/v1/entityOperations/upsert", batch.dump(), a.key);
        if (st != 201 && st != 204) {
          if (errors++ < 3) fprintf(stderr, "load: HTTP %d %s\n", st, body.substr(0, 300).c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  printf("RESULT load_entities %d\nRESULT load_seconds %.2f\nRESULT load_entities_per_s %.0f\nRESULT load_errors %d\n",
         a.entities, secs, a.entities / secs, errors.load());
  return errors.load() == 0 ? 0 : 1;
}

int Upsert(const Args& a) {
  std::atomic<int64_t> updates{0}, errors{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(a.port);
      std::mt19937_64 rng(100 + c);
      std::uniform_int_distribution<int> pick(0, a.entities - 1);
      std::uniform_real_distribution<double> v(5, 200);
      std::vector<double> mine;
      while (!stop.load()) {
        // Distinct entities within a batch (a batch is one transaction).
        std::vector<int> ids;
        ids.reserve(a.batch);
        int base = pick(rng);
        for (int i = 0; i < a.batch; ++i) ids.push_back((base + i * 97) % a.entities);
        std::string at = "2026-11-22T00:00:00Z";
        json batch = json::array();
        for (int n : ids) {
          json e = {{"id", EntityId(n)}, {"type", "AirQualityObserved"}};
          for (int k = 0; k < a.attrs; ++k) e[kAttrs[k % 8]] = {{"type", "Property"}, {"value", v(rng)}, {"observedAt", at}};
          batch.push_back(std::move(e));
        }
        std::string body = batch.dump();
        auto t0 = Clock::now();
        auto [st, answer] = conn.Request("POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", body, a.key);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (st == 204 || st == 201) {
          updates += static_cast<int64_t>(a.batch) * a.attrs;
          mine.push_back(ms);
        } else if (errors++ < 3) {
          fprintf(stderr, "upsert: HTTP %d %s\n", st, answer.substr(0, 300).c_str());
        }
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  printf("RESULT upsert_attribute_updates_per_s %.0f\n", updates.load() / secs);
  printf("RESULT upsert_batches %zu\n", latencies.size());
  printf("RESULT upsert_batch_p50_ms %.2f\n", Percentile(latencies, 0.50));
  printf("RESULT upsert_batch_p99_ms %.2f\n", Percentile(latencies, 0.99));
  printf("RESULT upsert_errors %lld\n", static_cast<long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    fprintf(stderr, "usage: ngsild_bench load|upsert --port P --key K [options]\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port") a.port = atoi(v);
    else if (k == "--key") a.key = v;
    else if (k == "--entities") a.entities = atoi(v);
    else if (k == "--clients") a.clients = atoi(v);
    else if (k == "--batch") a.batch = atoi(v);
    else if (k == "--attrs") a.attrs = atoi(v);
    else if (k == "--seconds") a.seconds = atoi(v);
    else {
      fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.port <= 0 || a.key.empty() || a.entities <= 0 || a.clients <= 0 || a.batch <= 0 || a.batch > 1000) {
    fprintf(stderr, "need --port, --key and positive counts (batch <= 1000)\n");
    return 2;
  }
  if (a.mode == "load") return Load(a);
  if (a.mode == "upsert") return Upsert(a);
  fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
  return 2;
}
