#include "modules/dossiers/dossier_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace tl::dossiers {
namespace {

std::shared_ptr<const DossierCache::Entry> At(int64_t version, const std::string& note = "") {
  auto e = std::make_shared<DossierCache::Entry>();
  e->version = version;
  e->queue_key = version * 10;
  e->events.rows.emplace_back(std::vector<std::optional<std::string>>{std::to_string(version), note});
  return e;
}

TEST(DossierCacheTest, FindsAnEntryOnlyAtItsOwnVersion) {
  DossierCache cache(8);
  EXPECT_EQ(cache.Find("A-1", 1), nullptr);
  cache.Put("A-1", At(2, "two"));
  auto hit = cache.Find("A-1", 2);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->events.rows[0].Text(1), "two");
  EXPECT_EQ(hit->queue_key, 20);
  EXPECT_EQ(cache.Find("A-1", 1), nullptr);  // another process may have written versions 1 and 3
  EXPECT_EQ(cache.Find("A-1", 3), nullptr);
  EXPECT_EQ(cache.Find("A-2", 2), nullptr);
}

TEST(DossierCacheTest, ANewerVersionReplacesAnOlderAndNeverTheOtherWayRound) {
  DossierCache cache(8);
  cache.Put("A-1", At(3, "three"));
  cache.Put("A-1", At(2, "two, late"));  // a put that lost the race to the next action's
  EXPECT_EQ(cache.Find("A-1", 2), nullptr);
  ASSERT_NE(cache.Find("A-1", 3), nullptr);
  cache.Put("A-1", At(4, "four"));
  EXPECT_EQ(cache.Find("A-1", 3), nullptr);
  ASSERT_NE(cache.Find("A-1", 4), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(DossierCacheTest, HoldsAtMostTwoGenerationsAndKeepsWhatIsStillInUse) {
  DossierCache cache(4);
  for (int i = 0; i < 4; ++i) cache.Put("D-" + std::to_string(i), At(1));
  EXPECT_EQ(cache.size(), 4u);
  cache.Put("D-4", At(1));  // the first four become the older generation
  EXPECT_EQ(cache.size(), 5u);
  cache.Put("D-0", At(2));  // acted on again: moves up to the newer generation
  for (int i = 5; i < 7; ++i) cache.Put("D-" + std::to_string(i), At(1));
  EXPECT_EQ(cache.size(), 7u);
  cache.Put("D-7", At(1));  // the newer is full (D-4, D-0, D-5, D-6): D-1..D-3 are dropped
  EXPECT_EQ(cache.size(), 5u);
  EXPECT_NE(cache.Find("D-0", 2), nullptr);
  EXPECT_NE(cache.Find("D-4", 1), nullptr);
  EXPECT_NE(cache.Find("D-7", 1), nullptr);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(cache.Find("D-" + std::to_string(i), 1), nullptr) << i;
  for (int i = 0; i < 1000; ++i) cache.Put("E-" + std::to_string(i), At(1));
  EXPECT_LE(cache.size(), 8u);
}

}  // namespace
}  // namespace tl::dossiers
