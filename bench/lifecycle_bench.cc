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

namespace {

using Clock = std::chrono::steady_clock;

class Connection {
 public:
  explicit Connection(int port) : port_(port) { Open(); }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  // Returns status and body; reopens once on a dropped connection.
  std::pair<int, std::string> Request(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& token) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
      if (!body.empty() || method == "POST") {
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      }
      req += "\r\n" + body;
      if (Send(req)) {
        auto r = Read();
        if (r.first) return r;
      }
      close(fd_);
      Open();
    }
    return {0, ""};
  }

 private:
  void Open() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) perror("connect");
    buf_.clear();
  }
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  std::pair<int, std::string> Read() {
    while (true) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = 0;
        auto p = buf_.find("Content-Length: ");
        if (p == std::string::npos || p > end) p = buf_.find("content-length: ");
        if (p != std::string::npos && p < end) cl = std::stoul(buf_.substr(p + 16));
        if (buf_.size() >= end + 4 + cl) {
          int status = std::stoi(buf_.substr(9, 3));
          std::string body = buf_.substr(end + 4, cl);
          buf_.erase(0, end + 4 + cl);
          return {status, body};
        }
      }
      char tmp[65536];
      ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return {0, ""};
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  int port_;
  int fd_ = -1;
  std::string buf_;
};

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

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
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
