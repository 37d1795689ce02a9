// Journal — the MQTT ingester's record of the messages it has taken from the broker and not yet
// applied (docs/mqtt.md, "Delivery, batching and restarts").
//
// libmosquitto acknowledges a QoS 1 message (PUBACK) as soon as it has read it, before the ingester
// applies it; from then on the broker forgets it. So the network thread appends every message here
// (one write(2) into the page cache: it survives a crash of the process, kill -9 included) before it
// queues it, and the worker marks how far it has applied after each batch. On the next start,
// Unapplied() returns what lies past the mark, in the order it arrived, to be applied first.
//
// Layout: a directory of segment files `<number>.seg` (records appended; a new segment past
// `segment_bytes`) and `applied.mark` (segment, offset and a checksum, rewritten in place). A record is
// [u32 body length][u32 FNV-1a of the body][u32 topic length][topic][payload]; a torn or damaged tail
// (the process died inside a write) ends the readable part of its segment. Segments wholly before the
// mark are deleted when the mark passes them.
//
// Not covered: a power failure of the host (nothing is fsynced; Mosquitto's own persistence is not
// synchronous either), and a message whose PUBACK left before the process died inside the callback,
// a window of microseconds.
//
// Thread-safety: Append and MarkApplied may be called from different threads (an internal mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::mqtt_ingest {

class Journal {
 public:
  struct Position {
    uint64_t segment = 0;
    uint64_t offset = 0;  // just past the record
  };
  struct Entry {
    std::string topic;
    std::string payload;
  };

  // Opens (creating) the directory and reads what was not applied before; appends go to a new segment.
  static Result<std::unique_ptr<Journal>> Open(const std::string& dir, uint64_t segment_bytes = 16u << 20);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // The messages past the mark when the journal was opened, oldest first.
  const std::vector<Entry>& Unapplied() const { return unapplied_; }
  // Everything found at Open() is applied: the mark moves past it and its segments go.
  Status MarkRecoveredApplied();

  [[nodiscard]] Result<Position> Append(std::string_view topic, std::string_view payload);
  // Everything up to `upto` (a position Append returned) is applied.
  Status MarkApplied(Position upto);

  int64_t live_segments() const;

 private:
  struct Impl;
  explicit Journal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<Entry> unapplied_;
};

}  // namespace tl::mqtt_ingest
