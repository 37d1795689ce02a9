// The operations centre's live feed: entity changes of the NGSI-LD store (Alert entities included)
// streamed as server-sent events to every connected operator (GET /api/v1/ops/events).
//
// Contract:
// - Changes are found by polling the database, not by an in-process hook, so a change written by any
//   `thanglong serve` process on the same PostgreSQL reaches the clients of every process. Each process
//   runs one poller thread (Start/Stop) that reads EntityStore::ChangedSince from the oldest client
//   cursor, in pages, every poll_interval, and fans each row out to the clients that have not seen it.
// - An event is the entity as it is now (not a diff): "id: <modifiedAt ms>:<entity id>", "event: entity",
//   data {"id","type","modifiedAt","version","changed":[names],"attributes":{name: value},"location",
//   "observedAt"} with names compacted by the Smart Data Models context (keyValues form). An entity
//   changed twice between polls shows once. A deletion is "event: deleted", data {"id","type",
//   "deletedAt"} (kept a week by the store: ChangedSince).
// - Cursors: a client's cursor is the (modifiedAt, id) of the last event it got; "Last-Event-ID" (or
//   the lastEventId parameter) resumes after one. A writer stamps modifiedAt before it commits, so a
//   slow commit can land behind a cursor: every poll re-reads `lookback` before the oldest cursor and
//   sends rows a client has not had at that modifiedAt. Delivery is therefore at least once: a resumed
//   or new client may get the last `lookback` of changes again (each event is a full state, so
//   applying one twice is harmless).
// - Heartbeat: a comment line every `heartbeat` to every client (keeps proxies and the server's own
//   idle timer from closing the stream; must be shorter than the server's request timeout). A stream
//   whose write fails (the client left) is dropped. Stop() ends every stream.
// - Tenants: a client follows one NGSI-LD tenant (the default one unless it names another); each poll
//   reads each followed tenant's changes once for all of its clients.
//
// Thread-safety: Subscribe and client_count from any thread; Start/Stop from one controlling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"

namespace tl::ops {

struct EventHubOptions {
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds heartbeat{15000};
  int64_t lookback_ms = 2000;
  int page = 500;               // rows per ChangedSince call
  int max_pages_per_poll = 20;  // a client resuming far back catches up over several polls
  size_t max_clients = 500;     // per process
};

struct Cursor {
  int64_t modified_ms = 0;
  std::string id;
  bool operator<(const Cursor& o) const {
    return modified_ms != o.modified_ms ? modified_ms < o.modified_ms : id < o.id;
  }
};

// "<ms>:<entity id>" (an event's id) → cursor; InvalidArgument naming `field` otherwise.
Result<Cursor> ParseEventId(std::string_view text, std::string_view field);

class EventHub {
 public:
  EventHub(const ngsild::EntityStore* store, std::shared_ptr<const ngsild::Context> context, const Clock* clock,
           EventHubOptions options = {});
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void Start();
  void Stop();  // joins the poller and closes every stream

  // True while another client may connect (max_clients).
  bool HasRoom() const;
  // Adds a client: events after `resume` (or from now), of the given compact types (empty: all).
  // Writes the stream's preamble (retry interval) at once. Unavailable when full or stopped.
  // `tenant`: the NGSI-LD tenant followed ("" the default one).
  Status Subscribe(std::shared_ptr<http::Stream> stream, std::optional<Cursor> resume, std::set<std::string> types,
                   std::string tenant = "");
  size_t client_count() const;

  // The event text (id, event, data lines) of one stored entity, with its cursor and compact type.
  std::string FormatEvent(const ngsild::StoredEntity& e, Cursor* cursor, std::string* type) const;

 private:
  struct Client;
  void Loop();
  void PollOnce();
  void PollTenant(const std::string& tenant, const std::vector<std::shared_ptr<Client>>& clients,
                  const std::vector<size_t>& members, std::vector<bool>& gone);
  void Heartbeat();

  const ngsild::EntityStore* store_;
  std::shared_ptr<const ngsild::Context> context_;
  const Clock* clock_;
  EventHubOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Client>> clients_;
  bool stopping_ = false;
  bool wake_ = false;  // a client joined: poll now
  std::thread poller_;
  std::chrono::steady_clock::time_point last_heartbeat_;
};

}  // namespace tl::ops
