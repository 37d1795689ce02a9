// PeriodicTask: runs a function every `interval` on a thread of its own, until Stop() or destruction.
//
// The first run happens one interval after Start(). Wake() makes the next run happen at once (or right
// after the one in progress), and the interval counts again from there. Stop() wakes the thread at
// once (no waiting out the interval) and joins it; a run in progress finishes first. Start() on a
// running task restarts it with the new function and interval. A task started with `background`
// runs at a lower scheduling priority (nice +10 for its thread, Linux): when the cores are busy, its
// work waits for the threads that answer requests instead of sharing the cores with them evenly.
//
// Thread-safety: Start and Stop from one owning thread; Wake from any thread (also from inside the
// function); the function runs on the task's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include "core/thread_name.h"

namespace tl {

class PeriodicTask {
 public:
  PeriodicTask() = default;
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  ~PeriodicTask() { Stop(); }

  // `name`: the thread's name (core/thread_name.h).
  void Start(std::chrono::milliseconds interval, std::function<void()> run, bool background = false,
             std::string name = "tl-periodic") {
    Stop();
    {
      std::lock_guard lock(mu_);
      stop_ = false;
    }
    thread_ = std::thread([this, interval, background, run = std::move(run), name = std::move(name)] {
      NameThisThread(name);
      // On Linux the nice value is per thread. Lowering one's own priority needs no privilege; if it
      // fails anyway, the task runs at normal priority.
      if (background) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
      std::unique_lock lock(mu_);
      for (;;) {
        cv_.wait_for(lock, interval, [this] { return stop_ || wake_; });
        if (stop_) break;
        wake_ = false;
        lock.unlock();
        run();
        lock.lock();
      }
    });
  }

  void Wake() {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace tl
