// WorkerPool: a fixed set of threads that run submitted functions, first come first served.
//
// For work that should run on few, known threads rather than on whichever thread asks: the allocator
// (mimalloc) keeps the pages a thread allocated in that thread's heap, so allocation-heavy work done
// on each of 32 request threads in turn leaves a working set behind in every one of them. Run()
// hands the function to a worker and waits for it; several callers are served in parallel up to the
// pool's size, the others queue. Post() queues a job without waiting (the HTTP server's handler
// threads).
//
// Thread-safety: Run and Post from any thread (not from inside a function the pool runs: with every worker
// waiting on itself, it would never return); the destructor lets the queued functions finish and
// joins the threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_name.h"

namespace tl {

class WorkerPool {
 public:
  // `name`: the threads' name (core/thread_name.h).
  explicit WorkerPool(int threads, std::string name = "tl-worker") {
    for (int i = 0; i < std::max(1, threads); ++i) {
      threads_.emplace_back([this, name] {
        NameThisThread(name);
        Loop();
      });
    }
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Runs `fn` on a worker and returns once it has returned (an exception it throws is rethrown here).
  void Run(const std::function<void()>& fn) {
    std::packaged_task<void()> task([&fn] { fn(); });  // on this stack until `done` is ready
    std::future<void> done = task.get_future();
    Post([&task] { task(); });
    done.get();
  }

  // Queues `job` for a worker without waiting for it; `job` must not throw.
  void Post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  size_t size() const { return threads_.size(); }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to run
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tl
