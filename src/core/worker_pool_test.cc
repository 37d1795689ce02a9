// WorkerPool: functions run on the pool's own threads, in parallel up to its size, and Run waits.
#include "core/worker_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <set>
#include <stdexcept>

namespace tl {
namespace {

TEST(WorkerPoolTest, RunsOnTheWorkersOwnThreadsAndWaitsForTheResult) {
  WorkerPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> seen;
  std::vector<std::thread> callers;
  std::atomic<int> done{0};
  for (int c = 0; c < 8; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        int value = 0;
        pool.Run([&] {
          std::lock_guard lock(mu);
          seen.insert(std::this_thread::get_id());
          value = 42;
        });
        EXPECT_EQ(value, 42);  // Run returned after the function ran
        done++;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(done.load(), 200);
  EXPECT_LE(seen.size(), 2u);  // 8 callers, never more than the pool's 2 threads
  EXPECT_FALSE(seen.contains(std::this_thread::get_id()));
}

TEST(WorkerPoolTest, ServesCallersInParallelUpToItsSize) {
  // The first two functions wait (up to 10 s) until both are inside at once, which takes two workers;
  // no function ever runs beside two others.
  WorkerPool pool(2);
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0, running = 0, most = 0, met = 0;
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      pool.Run([&] {
        std::unique_lock lock(mu);
        const int me = ++entered;
        most = std::max(most, ++running);
        cv.notify_all();
        if (me <= 2 && cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered >= 2; })) met++;
        --running;
      });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(met, 2);
  EXPECT_EQ(most, 2);
}

TEST(WorkerPoolTest, AnExceptionReachesTheCallerAndTheWorkerGoesOn) {
  WorkerPool pool(1);
  EXPECT_THROW(pool.Run([] { throw std::runtime_error("bad input"); }), std::runtime_error);
  bool ran = false;
  pool.Run([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(WorkerPoolTest, ItsThreadsCarryTheGivenName) {
  // top -H, perf and gdb tell the server's threads apart by these names (Linux keeps 15 characters).
  WorkerPool pool(2, "tl-test-pool-with-a-long-name");
  for (int i = 0; i < 4; ++i) {
    char name[32] = {};
    pool.Run([&] { pthread_getname_np(pthread_self(), name, sizeof name); });
    EXPECT_STREQ(name, "tl-test-pool-wi");
  }
}

}  // namespace
}  // namespace tl
