// NameThisThread: names the calling thread, so that `top -H`, `perf sched` and gdb tell the server's
// threads apart (the store's writer, its syncer, the handler pool, ...). Linux keeps at most 15
// characters; longer names are cut.
//
// Thread-safety: names only the calling thread.
#pragma once

#include <pthread.h>

#include <string>

namespace tl {

inline void NameThisThread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace tl
