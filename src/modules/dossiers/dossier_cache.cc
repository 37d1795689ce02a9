#include "modules/dossiers/dossier_cache.h"

#include <utility>

namespace tl::dossiers {

std::shared_ptr<const DossierCache::Entry> DossierCache::Find(const std::string& code, int64_t version) const {
  std::lock_guard lock(mu_);
  for (const Map* m : {&newer_, &older_}) {
    auto it = m->find(code);
    if (it != m->end()) return it->second->version == version ? it->second : nullptr;
  }
  return nullptr;
}

void DossierCache::Put(const std::string& code, std::shared_ptr<const Entry> entry) {
  if (!entry) return;
  std::lock_guard lock(mu_);
  if (auto it = newer_.find(code); it != newer_.end()) {
    if (it->second->version <= entry->version) it->second = std::move(entry);
    return;
  }
  if (auto it = older_.find(code); it != older_.end()) {
    if (it->second->version > entry->version) return;
    older_.erase(it);  // moves up to the newer generation
  }
  if (newer_.size() >= capacity_) {
    older_ = std::move(newer_);
    newer_ = Map();
  }
  newer_.emplace(code, std::move(entry));
}

size_t DossierCache::size() const {
  std::lock_guard lock(mu_);
  return newer_.size() + older_.size();
}

}  // namespace tl::dossiers
