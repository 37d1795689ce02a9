// The process allocator's settings (mimalloc, which the thanglong binary links first so that it
// replaces glibc's malloc process-wide; docs/architecture.md).
//
// mimalloc hands a page that became empty back to the OS 25 ms later (a whole segment 500 ms later),
// and the next allocation that lands there takes a page fault and a zeroed page from the kernel. Under
// steady load the same memory goes back and forth: during NGSI-LD batch upserts the server took ~15,000
// such faults a second with a level RSS, and first-touch faults (clear_page, memset) were ~13% of its
// time. TuneAllocator() keeps emptied memory for 2 s instead. Set on 2026-11-23 after three
// alternating 30 s pairs: 28,070-28,997 against 31,497-33,745 attribute updates/s, 480-509k against
// 302-315k minor faults (docs/benchmarks-ngsild.md). Idle memory still goes back, 2 s later.
//
// An environment variable of mimalloc's own (MIMALLOC_DECOMMIT_DELAY, MIMALLOC_SEGMENT_DECOMMIT_DELAY)
// wins over these values.
//
// Thread-safety: call once, at the start of main, before other threads exist.
#pragma once

namespace tl::app {

struct AllocatorSettings {
  long decommit_delay_ms = 0;          // an empty page is returned to the OS after this long
  long segment_decommit_delay_ms = 0;  // an empty segment, after this long
};

inline constexpr long kDecommitDelayMs = 2000;

// Applies the settings above (unless the environment sets them) and returns what mimalloc now uses.
AllocatorSettings TuneAllocator();

}  // namespace tl::app
