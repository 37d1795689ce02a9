#include "storage/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>
#include <vector>

namespace tl::storage {
namespace {

// SQLite's default page cache (pcache1), read once before ours replaces it; never changed afterwards.
const sqlite3_pcache_methods2& M() {
  static const sqlite3_pcache_methods2 inner = [] {
    sqlite3_pcache_methods2 m{};
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &m) != SQLITE_OK) m = {};
    return m;
  }();
  return inner;
}

// Process-wide statistics, as SQLite keeps its own sqlite3_status counters.
struct Counters {
  std::atomic<long long> skipped{0};
  std::atomic<long long> passed{0};
};
Counters& Stats() {
  static Counters counters;
  return counters;
}

// One cache: pcache1's instance and the bound of the keys it may hold.
struct TrackedCache {
  sqlite3_pcache* inner = nullptr;
  // Every key fetched with create != 0 is at most this; so is every key a page was rekeyed to,
  // except those in `high`.
  unsigned max_fetched = 0;
  // Pages rekeyed past max_fetched (at most a few at a time: a rebalance parks one page there).
  std::vector<std::pair<sqlite3_pcache_page*, unsigned>> high;
};

TrackedCache* Of(sqlite3_pcache* p) {
  return reinterpret_cast<TrackedCache*>(p);
}

int Init(void*) {
  return M().xInit ? M().xInit(M().pArg) : SQLITE_OK;
}
void Shutdown(void*) {
  if (M().xShutdown) M().xShutdown(M().pArg);
}

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = M().xCreate(page_size, extra_size, purgeable);
  if (!inner) return nullptr;
  auto cache = std::make_unique<TrackedCache>();
  cache->inner = inner;
  // Owned by SQLite from here until Destroy, which takes it back.
  return reinterpret_cast<sqlite3_pcache*>(cache.release());
}

void Cachesize(sqlite3_pcache* p, int pages) {
  M().xCachesize(Of(p)->inner, pages);
}
int Pagecount(sqlite3_pcache* p) {
  return M().xPagecount(Of(p)->inner);
}

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  TrackedCache* c = Of(p);
  // A look-up (create == 0) adds no page: what it finds is already under the bound. The pager looks
  // up the parking key before every rekey (sqlite3PcacheMove), so counting look-ups would undo it all.
  if (create != 0) c->max_fetched = std::max(c->max_fetched, key);
  return M().xFetch(c->inner, key, create);
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  TrackedCache* c = Of(p);
  if (discard) std::erase_if(c->high, [page](const auto& h) { return h.first == page; });
  M().xUnpin(c->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  TrackedCache* c = Of(p);
  std::erase_if(c->high, [&](const auto& h) { return h.first == page && h.second == old_key; });
  if (new_key > c->max_fetched) c->high.emplace_back(page, new_key);
  M().xRekey(c->inner, page, old_key, new_key);
}

// Drops every page whose key is `limit` or more.
void Truncate(sqlite3_pcache* p, unsigned limit) {
  TrackedCache* c = Of(p);
  bool high_past_limit =
      std::any_of(c->high.begin(), c->high.end(), [limit](const auto& h) { return h.second >= limit; });
  if (limit > c->max_fetched && !high_past_limit) {
    Stats().skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Stats().passed.fetch_add(1, std::memory_order_relaxed);
  M().xTruncate(c->inner, limit);
  // Nothing at or past the limit is left.
  if (limit > 0) c->max_fetched = std::min(c->max_fetched, limit - 1);
  std::erase_if(c->high, [limit](const auto& h) { return h.second >= limit; });
}

void Destroy(sqlite3_pcache* p) {
  std::unique_ptr<TrackedCache> c(Of(p));
  M().xDestroy(c->inner);
}

void Shrink(sqlite3_pcache* p) {
  M().xShrink(Of(p)->inner);
}

}  // namespace

bool InstallTrackedPageCache() {
  static const bool installed = [] {
    const sqlite3_pcache_methods2& inner = M();
    if (inner.iVersion < 1 || !inner.xCreate || !inner.xFetch || !inner.xTruncate) return false;
    // In the struct's order: version, argument, then xInit ... xShrink.
    sqlite3_pcache_methods2 ours{1,     nullptr, Init,  Shutdown, Create,  Cachesize, Pagecount,
                                 Fetch, Unpin,   Rekey, Truncate, Destroy, Shrink};
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &ours) == SQLITE_OK;
  }();
  return installed;
}

PageCacheCounts TrackedPageCacheCounts() {
  return {Stats().skipped.load(std::memory_order_relaxed), Stats().passed.load(std::memory_order_relaxed)};
}

}  // namespace tl::storage
