// PerSession<T>: what a write notes while it runs, kept apart per write in progress, for its end.
//
// A write's items are filed under the Session it runs in (on SQLite the writer's one session runs
// one work at a time; on PostgreSQL each concurrent write has its own). Add() files an item; Take()
// returns a session's items in the order they were added and forgets them (at the work's end, to
// write them in one go); Drop() forgets them (a failed or abandoned work). Used by the NGSI-LD change
// log (EntityStore) and the telemetry history's listener (EntityHistory).
//
// Thread-safety: safe to share; each call takes the one mutex.
#pragma once

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/database.h"

namespace tl::storage {

template <typename T>
class PerSession {
 public:
  void Add(const Session& session, T item) {
    std::lock_guard lock(mu_);
    items_[&session].push_back(std::move(item));
  }
  std::vector<T> Take(const Session& session) {
    std::lock_guard lock(mu_);
    auto it = items_.find(&session);
    if (it == items_.end()) return {};
    std::vector<T> out = std::move(it->second);
    items_.erase(it);
    return out;
  }
  void Drop(const Session& session) {
    std::lock_guard lock(mu_);
    items_.erase(&session);
  }

 private:
  std::mutex mu_;
  std::unordered_map<const Session*, std::vector<T>> items_;
};

}  // namespace tl::storage
