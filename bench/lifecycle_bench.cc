// Lifecycle throughput of the one-stop shop through the HTTP API, beside the storage engine's own
// ceiling measured in the same run.
//
//   lifecycle_bench http --port P [--clients 64] [--seconds 20]
//       64 clients, each on its own keep-alive connection (all driven by one thread with epoll, as wrk
//       drives its connections), carry dossiers through
//       submit -> receive -> assign -> propose -> approve -> issue-result -> return (7 durable writes
//       each) and report complete dossiers/s and the latency of each request.
//   lifecycle_bench sqlite-ceiling --file F [--seconds 5]
//       raw single-row INSERTs, each its own durable transaction (WAL, synchronous=FULL): the engine's
//       ceiling for one writer that commits every row.
#include <sqlite3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
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

// The value of a top-level member of a JSON object as raw text ("12", "\"HN-...\""), without
// building the document: the load generator must stay light, since it shares the server's cores.
std::string TopLevelMember(std::string_view json, std::string_view name) {
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t key_start = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') {
        in_string = false;
        if (depth == 1 && json.substr(key_start, i - key_start) == name && i + 1 < json.size() && json[i + 1] == ':') {
          size_t v = i + 2, e = v;
          if (e < json.size() && json[e] == '"') {
            e = json.find('"', e + 1);
            return e == std::string_view::npos ? std::string() : std::string(json.substr(v + 1, e - v - 1));
          }
          while (e < json.size() && json[e] != ',' && json[e] != '}') ++e;
          return std::string(json.substr(v, e - v));
        }
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      key_start = i + 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::string();
}

// One client: a keep-alive connection carrying one dossier at a time through the steps.
struct Client {
  int fd = -1;
  int step = -1;  // -1: submitting; 0..: the index of the action in flight
  std::string code;
  int64_t version = 0;
  std::string out;
  size_t out_off = 0;
  std::string in;
  Clock::time_point sent;
};

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
  auto request = [](const std::string& path, const std::string& body, const std::string& token) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  int64_t complete = 0, errors = 0, requests = 0;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  // All clients on one thread, each connection a small state machine driven by epoll (as wrk
  // does): 64 blocking threads cost the shared cores a context switch per answer.
  int ep = epoll_create1(0);
  std::vector<Client> cs(static_cast<size_t>(clients));
  auto start_next = [&](Client& c) {
    if (c.step < 0) {
      c.out = request("/api/v1/dossiers", submit, tok["citizen"]);
    } else {
      const Step& s = steps[static_cast<size_t>(c.step)];
      std::string b = std::string("{") + s.extra + "\"version\":" + std::to_string(c.version) + "}";
      c.out = request("/api/v1/dossiers/" + c.code + "/actions/" + s.action, b, tok[s.user]);
    }
    c.out_off = 0;
    c.sent = Clock::now();
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out_off = static_cast<size_t>(n);
    epoll_event ev{};
    ev.events = c.out_off < c.out.size() ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  for (auto& c : cs) {
    c.fd = bench::ConnectLoopback(port);
    if (c.fd < 0) return 1;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    start_next(c);
  }
  auto start = Clock::now();
  auto until = start + std::chrono::seconds(seconds);
  std::vector<epoll_event> events(static_cast<size_t>(clients));
  char buf[65536];
  while (Clock::now() < until) {
    int n = epoll_wait(ep, events.data(), clients, 100);
    for (int i = 0; i < n; ++i) {
      Client& c = *static_cast<Client*>(events[static_cast<size_t>(i)].data.ptr);
      if (events[static_cast<size_t>(i)].events & EPOLLOUT && c.out_off < c.out.size()) {
        ssize_t w = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w > 0) c.out_off += static_cast<size_t>(w);
        if (c.out_off == c.out.size()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.ptr = &c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (!(events[static_cast<size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = recv(c.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        fprintf(stderr, "lifecycle_bench: the server closed a connection\n");
        return 1;
      }
      c.in.append(buf, static_cast<size_t>(r));
      auto answer = bench::TakeAnswer(c.in);
      if (!answer) continue;
      const auto& [status, body] = *answer;
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count());
      requests++;
      bool ok = status == (c.step < 0 ? 201 : 200);
      if (ok) {
        std::string v = TopLevelMember(body, "version");
        if (c.step < 0) c.code = TopLevelMember(body, "code");
        ok = !v.empty() && !c.code.empty();
        if (ok) c.version = std::stoll(v);
      }
      if (!ok) {
        errors++;
        c.step = -1;  // a new dossier
      } else if (c.step + 1 == static_cast<int>(steps.size())) {
        complete++;
        c.step = -1;
      } else {
        c.step++;
      }
      start_next(c);
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : cs) close(c.fd);
  close(ep);
  printf("RESULT lifecycle_dossiers_per_s %.1f\n", static_cast<double>(complete) / secs);
  printf("RESULT lifecycle_requests_per_s %.1f\n", static_cast<double>(requests) / secs);
  printf("RESULT lifecycle_request_p50_ms %.3f\n", Percentile(latencies, 0.50));
  printf("RESULT lifecycle_request_p99_ms %.3f\n", Percentile(latencies, 0.99));
  printf("RESULT lifecycle_errors %lld\n", static_cast<long long>(errors));
  printf("RESULT lifecycle_complete %lld\n", static_cast<long long>(complete));
  return errors > 0 ? 1 : 0;
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
