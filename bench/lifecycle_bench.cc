// Lifecycle throughput of the one-stop shop through the HTTP API, beside the storage engine's own
// ceiling measured in the same run.
//
//   lifecycle_bench http --port P [--clients 64] [--seconds 20]
//       64 clients, each on its own keep-alive connection, carry dossiers through
//       submit -> receive -> assign -> propose -> approve -> issue-result -> return (7 durable writes
//       each) and report complete dossiers/s and the latency of each request.
//   lifecycle_bench sqlite-ceiling --file F [--seconds 5]
//       raw single-row INSERTs, each its own durable transaction (WAL, synchronous=FULL): the engine's
//       ceiling for one writer that commits every row.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_http.h"

namespace {

using bench::Connection;
using bench::Percentile;

using Clock = std::chrono::steady_clock;

std::string Login(int port, const std::string& user) {
  Connection c(port);
  auto [st, body] = c.Request("POST", "/api/v1/auth/login",
                              nlohmann::json{{"username", user}, {"password", "ThangLong@2025"}}.dump(), "");
  if (st != 200) {
    fprintf(stderr, "login %s failed: %d %s\n", user.c_str(), st, body.c_str());
    exit(1);
  }
  return nlohmann::json::parse(body)["token"];
}

int Http(int port, int clients, int seconds) {
  std::map<std::string, std::string> tok;
  for (const char* u : {"citizen", "desk", "specialist", "leader"}) tok[u] = Login(port, u);
  struct Step {
    const char* user;
    const char* action;
    const char* extra;
  };
  const std::vector<Step> steps = {{"desk", "receive", ""},         {"desk", "assign", R"("assignee":"specialist",)"},
                                   {"specialist", "propose", ""},   {"leader", "approve", ""},
                                   {"specialist", "issue-result", ""}, {"desk", "return", ""}};
  std::atomic<int64_t> complete{0}, errors{0}, requests{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      Connection c(port);
      std::vector<double> mine;
      const std::string submit = nlohmann::json{
          {"procedure_code", "1.001193"},
          {"unit_code", "00004"},
          {"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
          // What the birth registration form (data/procedures/forms/) requires.
          {"form",
           {{"relationship", "Cha"},
            {"child", {{"full_name", "Nguyễn Minh Khôi"}, {"date_of_birth", "2026-01-10"}, {"sex", "Nam"},
                       {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
            {"mother", {{"full_name", "Trần Thị Bình"}}}}},
          {"components", {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}}}.dump();
      while (!stop.load()) {
        auto t0 = Clock::now();
        auto [st, body] = c.Request("POST", "/api/v1/dossiers", submit, tok["citizen"]);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        requests++;
        if (st != 201) {
          errors++;
          continue;
        }
        auto d = nlohmann::json::parse(body);
        std::string code = d["code"];
        int64_t version = d["version"];
        bool ok = true;
        for (const auto& s : steps) {
          if (stop.load()) {
            ok = false;
            break;
          }
          std::string b = std::string("{") + s.extra + "\"version\":" + std::to_string(version) + "}";
          auto t1 = Clock::now();
          auto [st2, body2] = c.Request("POST", "/api/v1/dossiers/" + code + "/actions/" + s.action, b, tok[s.user]);
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
          requests++;
          if (st2 != 200) {
            errors++;
            ok = false;
            break;
          }
          version = nlohmann::json::parse(body2)["version"];
        }
        if (ok) complete++;
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  printf("RESULT lifecycle_dossiers_per_s %.1f\n", static_cast<double>(complete.load()) / secs);
  printf("RESULT lifecycle_requests_per_s %.1f\n", static_cast<double>(requests.load()) / secs);
  printf("RESULT lifecycle_request_p50_ms %.3f\n", Percentile(latencies, 0.50));
  printf("RESULT lifecycle_request_p99_ms %.3f\n", Percentile(latencies, 0.99));
  printf("RESULT lifecycle_errors %lld\n", static_cast<long long>(errors.load()));
  printf("RESULT lifecycle_complete %lld\n", static_cast<long long>(complete.load()));
  return errors.load() > 0 ? 1 : 0;
}

int SqliteCeiling(const std::string& file, int seconds) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) return 1;
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                   "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES ('a dossier transition')", -1, &st, nullptr);
  int64_t n = 0;
  auto start = Clock::now();
  auto until = start + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    ++n;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("RESULT sqlite_durable_tx_per_s %.1f\n", static_cast<double>(n) / secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: lifecycle_bench http --port P [--clients N] [--seconds S] | sqlite-ceiling --file F\n");
    return 2;
  }
  std::string mode = argv[1];
  int port = 0, clients = 64, seconds = 20;
  std::string file;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::stoi(argv[i + 1]);
    else if (k == "--clients") clients = std::stoi(argv[i + 1]);
    else if (k == "--seconds") seconds = std::stoi(argv[i + 1]);
    else if (k == "--file") file = argv[i + 1];
  }
  if (mode == "http") return Http(port, clients, seconds);
  if (mode == "sqlite-ceiling") return SqliteCeiling(file, seconds);
  return 2;
}
