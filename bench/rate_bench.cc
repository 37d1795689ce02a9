// An open-loop HTTP GET load at a fixed rate, for floors of the form "p99 <= X ms at >= R requests/s"
// (bench/ngsild.sh). wrk keeps N connections busy back to back, so it measures the latency at whatever
// rate the server saturates at; this program offers exactly R requests a second instead, as wrk2 does:
// request k is due at start + k/R whether or not the answers to earlier ones came back, and its latency
// is counted from that due time, so a stall of the server (or of this program) counts in full against
// every request it delayed (no coordinated omission). Due requests that find every connection busy
// wait in a queue, and their wait is part of their latency.
//
//   rate_bench --port P --rate R [--connections 32] [--seconds 10] [--warmup 2]
//              [--header "Name: value"]... (--path /x | --path-format "/e/B-%06d" --range N) [--timeline MS]
//
// With --path-format each request takes a uniformly random integer in [0, N) (fixed seed). Only
// requests due within the measured seconds (after the warm-up) count; those still unanswered 10 s
// after the last one was due count as errors, as does any answer other than 200; the rate answered is
// the answers over the time from the first due request to the last answer. One thread, epoll;
// it sleeps until the next request is due (timer slack set to 1 ns). Output: "RESULT <name> <value>".
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "bench_http.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int port = 0;
  double rate = 0;
  int connections = 32;
  double seconds = 10, warmup = 2;
  std::vector<std::string> headers;
  std::string path, path_format;
  int64_t range = 0;
  double timeline_ms = 0;  // --timeline MS: the worst latency of each slot of MS milliseconds (diagnosis)
};

struct Conn {
  int fd = -1;
  bool busy = false;
  Clock::time_point due;  // of the request in flight
  std::string out, in;
  size_t out_off = 0;
};

int Usage() {
  fprintf(stderr,
          "usage: rate_bench --port P --rate R [--connections C] [--seconds S] [--warmup W] [--header H]... "
          "(--path /x | --path-format F --range N)\n");
  return 2;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

void Watch(int ep, Conn& c, bool want_out) {
  epoll_event ev{};
  ev.events = want_out ? EPOLLIN | EPOLLOUT : EPOLLIN;
  ev.data.ptr = &c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port") a.port = atoi(v);
    else if (k == "--rate") a.rate = atof(v);
    else if (k == "--connections") a.connections = atoi(v);
    else if (k == "--seconds") a.seconds = atof(v);
    else if (k == "--warmup") a.warmup = atof(v);
    else if (k == "--header") a.headers.emplace_back(v);
    else if (k == "--path") a.path = v;
    else if (k == "--path-format") a.path_format = v;
    else if (k == "--range") a.range = atoll(v);
    else if (k == "--timeline")
      a.timeline_ms = atof(v);
    else return Usage();
  }
  if (a.port <= 0 || a.rate <= 0 || a.connections <= 0 || a.seconds <= 0 || a.warmup < 0 ||
      (a.path.empty() == a.path_format.empty()) || (!a.path_format.empty() && a.range <= 0)) {
    return Usage();
  }
  prctl(PR_SET_TIMERSLACK, 1UL);  // sleep until the next due time, not up to 50 µs past it

  std::string head_tail = " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : a.headers) head_tail += h + "\r\n";
  head_tail += "\r\n";
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(0, a.range - 1));
  auto next_request = [&] {
    std::string path = a.path;
    if (!a.path_format.empty()) {
      char buf[512];
      snprintf(buf, sizeof buf, a.path_format.c_str(), static_cast<long long>(pick(rng)));
      path = buf;
    }
    return "GET " + path + head_tail;
  };

  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(a.connections));
  std::vector<Conn*> idle;
  for (auto& c : conns) {
    c.fd = bench::ConnectLoopback(a.port);
    if (c.fd < 0) return 1;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    idle.push_back(&c);
  }

  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / a.rate));
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.warmup));
  const auto last_due = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  const auto give_up = last_due + std::chrono::seconds(10);
  auto next_due = start;
  std::deque<Clock::time_point> waiting;  // due, not yet sent: every connection was busy
  std::vector<double> latencies;
  std::vector<std::pair<double, double>> slots;  // --timeline: worst latency and answers per slot
  latencies.reserve(static_cast<size_t>(a.rate * a.seconds * 1.1) + 16);
  int64_t due_measured = 0, errors = 0, in_flight = 0;
  size_t max_waiting = 0;
  auto last_answer = measure_from;  // of the measured requests
  std::vector<epoll_event> events(conns.size());
  char buf[65536];

  auto send_on = [&](Conn& c, Clock::time_point due) {
    c.busy = true;
    c.due = due;
    c.out = next_request();
    c.out_off = 0;
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out_off = static_cast<size_t>(n);
    if (c.out_off < c.out.size()) Watch(ep, c, true);
    in_flight++;
  };

  while (true) {
    auto now = Clock::now();
    while (next_due <= now && next_due < last_due) {
      waiting.push_back(next_due);
      if (next_due >= measure_from) due_measured++;
      next_due += interval;
    }
    while (!waiting.empty() && !idle.empty()) {
      Conn* c = idle.back();
      idle.pop_back();
      send_on(*c, waiting.front());
      waiting.pop_front();
    }
    max_waiting = std::max(max_waiting, waiting.size());
    if (next_due >= last_due && waiting.empty() && in_flight == 0) break;
    if (now >= give_up) {
      // Unanswered or never sent: counted as errors.
      for (auto& c : conns) {
        if (c.busy && c.due >= measure_from) errors++;
      }
      for (auto d : waiting) {
        if (d >= measure_from) errors++;
      }
      break;
    }
    timespec timeout{0, 0};
    if (waiting.empty()) {
      auto wait = (next_due < last_due ? next_due : give_up) - now;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      if (ns > 0) {
        timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      }
    } else {
      timeout = {0, 1'000'000};  // every connection busy: the next answer frees one
    }
    int n = epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
    if (n < 0) continue;  // EINTR
    auto at = Clock::now();
    for (int i = 0; i < n; ++i) {
      const auto& e = events[static_cast<size_t>(i)];
      Conn& c = *static_cast<Conn*>(e.data.ptr);
      if ((e.events & EPOLLOUT) && c.out_off < c.out.size()) {
        ssize_t w = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w > 0) c.out_off += static_cast<size_t>(w);
        if (c.out_off == c.out.size()) Watch(ep, c, false);
      }
      if (!(e.events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = recv(c.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        fprintf(stderr, "rate_bench: the server closed a connection\n");
        return 1;
      }
      c.in.append(buf, static_cast<size_t>(r));
      auto answer = bench::TakeAnswer(c.in);
      if (!answer || !c.busy) continue;
      c.busy = false;
      in_flight--;
      if (c.due >= measure_from) {
        if (answer->first == 200) {
          latencies.push_back(std::chrono::duration<double, std::milli>(at - c.due).count());
          if (a.timeline_ms > 0) {
            auto slot = static_cast<size_t>(std::chrono::duration<double, std::milli>(c.due - measure_from).count() /
                                            a.timeline_ms);
            if (slots.size() <= slot) slots.resize(slot + 1, {0.0, 0.0});
            slots[slot].first = std::max(slots[slot].first, latencies.back());
            slots[slot].second += 1;
          }
          last_answer = std::max(last_answer, at);
        } else if (errors++ < 3) {
          fprintf(stderr, "rate_bench: HTTP %d %s\n", answer->first, answer->second.substr(0, 200).c_str());
        }
      }
      idle.push_back(&c);
    }
  }
  for (auto& c : conns) close(c.fd);
  close(ep);

  // Delivered: answers over the time it took to give them (a server that fell behind answers the
  // last requests after the measured seconds, so it delivered less than was offered).
  double answered = static_cast<double>(latencies.size());
  double took = std::max(a.seconds, std::chrono::duration<double>(last_answer - measure_from).count());
  for (size_t i = 0; i < slots.size(); ++i) {
    printf("TIMELINE %.3f s: worst %.3f ms over %.0f answers\n", static_cast<double>(i) * a.timeline_ms / 1000,
           slots[i].first, slots[i].second);
  }
  printf("RESULT rate_offered_per_s %.0f\n", a.rate);
  printf("RESULT rate_answered_per_s %.0f\n", answered / took);
  printf("RESULT rate_due %lld\n", static_cast<long long>(due_measured));
  printf("RESULT rate_errors %lld\n", static_cast<long long>(errors));
  printf("RESULT rate_max_waiting %zu\n", max_waiting);
  printf("RESULT rate_p50_ms %.3f\n", Percentile(latencies, 0.50));
  printf("RESULT rate_p90_ms %.3f\n", Percentile(latencies, 0.90));
  printf("RESULT rate_p99_ms %.3f\n", Percentile(latencies, 0.99));
  printf("RESULT rate_p999_ms %.3f\n", Percentile(latencies, 0.999));
  printf("RESULT rate_max_ms %.3f\n", Percentile(latencies, 1.0));
  return errors == 0 ? 0 : 1;
}
