#include "app/allocator.h"

#include <gtest/gtest.h>
#include <mimalloc.h>

#include <cstdlib>

namespace tl::app {
namespace {

TEST(AllocatorTest, KeepsEmptiedMemoryForTwoSecondsUnlessTheEnvironmentSaysOtherwise) {
  unsetenv("MIMALLOC_DECOMMIT_DELAY");
  unsetenv("MIMALLOC_SEGMENT_DECOMMIT_DELAY");
  AllocatorSettings s = TuneAllocator();
  EXPECT_EQ(s.decommit_delay_ms, kDecommitDelayMs);
  EXPECT_EQ(s.segment_decommit_delay_ms, kDecommitDelayMs);
  EXPECT_EQ(mi_option_get(mi_option_decommit_delay), kDecommitDelayMs);

  // An operator's own setting stays: mimalloc read it at start; TuneAllocator leaves it alone.
  mi_option_set(mi_option_decommit_delay, 25);
  setenv("MIMALLOC_DECOMMIT_DELAY", "25", 1);
  s = TuneAllocator();
  unsetenv("MIMALLOC_DECOMMIT_DELAY");
  EXPECT_EQ(s.decommit_delay_ms, 25);
  EXPECT_EQ(s.segment_decommit_delay_ms, kDecommitDelayMs);
}

}  // namespace
}  // namespace tl::app
