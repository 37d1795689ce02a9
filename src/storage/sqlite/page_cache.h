// A wrapper around SQLite's default page cache (pcache1) that spares each commit a walk over the
// whole cache.
//
// At the end of every write transaction SQLite's pager calls the cache's xTruncate with the
// database's size, to drop pages past the end. pcache1 walks its hash table when its largest key ever
// seen (iMaxKey) is at or past that limit, and the whole table when iMaxKey is far past it. When a
// B-tree rebalance swaps two pages' numbers it parks one page for a moment under the number of the
// "pending byte" page (1 GiB / page size + 1, page 262,145 for 4 KiB pages), which no real page can
// have. The page moves on at once, but pcache1 keeps iMaxKey at 262,145, so the next commit's
// truncation walks every bucket of the hash table (one per cached page, a division each), finds
// nothing to drop, and lowers iMaxKey again. Inserts into indexes with random keys rebalance in
// almost every group commit, so the store's writer, with a cache of tens of thousands of pages,
// spent 8% of its time in that walk (perf, a lifecycle run at 64 clients).
//
// The wrapper passes every call to pcache1 and keeps, per cache, an upper bound of the keys it may
// hold: the largest key ever fetched, and the pages rekeyed past that bound, which are tracked until
// they are rekeyed back, discarded or truncated. A truncation is passed on only when a page at or past
// its limit may exist; when none can, pcache1 has nothing to drop and the call is skipped. A page is
// never kept past a truncation that should have dropped it, so what SQLite reads is unchanged.
//
// Thread-safety: install once, before the process opens its first SQLite connection (SQLite allows
// configuring its page cache only before it is initialised). A cache instance is used by one
// connection at a time, as SQLite uses every cache.
#pragma once

namespace tl::storage {

// Installs the wrapper as SQLite's page cache. Returns false (and changes nothing) if SQLite was
// already initialised, for example by a tool that opened a database first. Idempotent.
bool InstallTrackedPageCache();

// How many truncations the wrappers of this process skipped and passed on; for tests.
struct PageCacheCounts {
  long long skipped = 0;
  long long passed = 0;
};
PageCacheCounts TrackedPageCacheCounts();

}  // namespace tl::storage
