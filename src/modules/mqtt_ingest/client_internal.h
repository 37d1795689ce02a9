// Internal to the module: the RAII handle of a libmosquitto client and the library's one-time set-up.
// Thread-safety: InitMosquitto() may be called from any thread, any number of times.
#pragma once

#include <memory>

#include "core/status.h"

struct mosquitto;

namespace tl::mqtt_ingest {

struct MosquittoDeleter {
  void operator()(mosquitto* m) const;
};
using MosquittoHandle = std::unique_ptr<mosquitto, MosquittoDeleter>;

// mosquitto_lib_init, once per process.
Status InitMosquitto();

}  // namespace tl::mqtt_ingest
