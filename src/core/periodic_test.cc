#include "core/periodic.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

namespace tl {
namespace {

TEST(PeriodicTaskTest, RunsRepeatedlyUntilStoppedAndStopsWithoutWaitingOutTheInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task;
  task.Start(std::chrono::milliseconds(5), [&] { runs++; });
  for (int i = 0; i < 400 && runs.load() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(runs.load(), 3);
  task.Stop();
  int after_stop = runs.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(runs.load(), after_stop);  // no run after Stop returned

  // A long interval: Stop (here through the destructor) returns at once, before any run.
  auto started = std::chrono::steady_clock::now();
  {
    PeriodicTask slow;
    slow.Start(std::chrono::hours(1), [&] { runs += 1000; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(runs.load(), after_stop);
}

TEST(PeriodicTaskTest, WakeRunsAtOnceInsteadOfWaitingOutTheInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task;
  task.Start(std::chrono::hours(1), [&] { runs++; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runs.load(), 0);  // the interval has not passed
  task.Wake();
  for (int i = 0; i < 400 && runs.load() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(runs.load(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runs.load(), 1);  // one wake, one run
  task.Wake();
  for (int i = 0; i < 400 && runs.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(runs.load(), 2);
}

TEST(PeriodicTaskTest, BackgroundTaskRunsAtLowerPriorityAndOthersDoNot) {
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  auto nice_seen_by = [](bool background) {
    std::atomic<int> seen{-100};
    PeriodicTask task;
    task.Start(
        std::chrono::hours(1), [&] { seen = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); },
        background);
    task.Wake();
    for (int i = 0; i < 400 && seen.load() == -100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return seen.load();
  };
  EXPECT_EQ(nice_seen_by(true), std::min(base + 10, 19));
  EXPECT_EQ(nice_seen_by(false), base);
  // Only the task's thread was lowered, not the caller's.
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), base);
}

TEST(PeriodicTaskTest, ItsThreadCarriesTheGivenName) {
  std::atomic<bool> ran{false};
  char name[32] = {};
  PeriodicTask task;
  task.Start(
      std::chrono::hours(1),
      [&] {
        pthread_getname_np(pthread_self(), name, sizeof name);
        ran = true;
      },
      /*background=*/false, "tl-test-task");
  task.Wake();
  for (int i = 0; i < 400 && !ran.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  task.Stop();
  ASSERT_TRUE(ran.load());
  EXPECT_STREQ(name, "tl-test-task");
}

}  // namespace
}  // namespace tl
