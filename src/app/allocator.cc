#include "app/allocator.h"

#include <mimalloc.h>

#include <cstdlib>

namespace tl::app {

AllocatorSettings TuneAllocator() {
  auto set_unless_in_environment = [](mi_option_t option, const char* env, long value) {
    const char* v = std::getenv(env);
    if (v == nullptr || *v == '\0') mi_option_set(option, value);
  };
  set_unless_in_environment(mi_option_decommit_delay, "MIMALLOC_DECOMMIT_DELAY", kDecommitDelayMs);
  set_unless_in_environment(mi_option_segment_decommit_delay, "MIMALLOC_SEGMENT_DECOMMIT_DELAY", kDecommitDelayMs);
  return {mi_option_get(mi_option_decommit_delay), mi_option_get(mi_option_segment_decommit_delay)};
}

}  // namespace tl::app
