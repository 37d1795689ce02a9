// MQTT ingestion (docs/mqtt.md): devices publish to a broker (Mosquitto), the Ingester applies what
// they publish to the NGSI-LD entity store, and the Publisher is the small client anything in the
// platform (the city simulator, tests) uses to publish.
//
// Publisher — contract:
//   auto pub = Publisher::Connect("mqtt://127.0.0.1:1883");       // Result<std::unique_ptr<Publisher>>
//   TL_RETURN_IF_ERROR((*pub)->Publish("devices/aq-001/measurements", R"({"t":1795000000000,"pm25":41})"));
//   TL_RETURN_IF_ERROR((*pub)->Flush());                           // every message acknowledged
// Connect() waits until the broker accepts the connection (clean session; a random client id unless
// given). Publish() queues one message (QoS 0, 1 or 2; default 1) and returns at once; the client's
// network thread sends it, reconnecting by itself if the connection drops (QoS 1/2 messages are then
// sent again). Flush() waits until the broker has acknowledged every message published so far (QoS
// 0: written to the socket). The destructor flushes for up to 5 s, disconnects and joins the thread.
// Thread-safety: Publish() and Flush() may be called from any thread.
//
// Ingester — contract:
// - A libmosquitto client with its own network thread (mosquitto_loop_start), a persistent session
//   (clean_session=false under the stable `client_id`, QoS 1), so messages published while the
//   process was down are delivered when it comes back; reconnects by itself with backoff (1 s .. 10 s).
// - Subscribes to $share/<group>/<prefix>ngsi-ld/v1/entities, .../ngsi-ld/v1/+/entities and
//   .../devices/+/measurements: several processes over one database each take a share.
// - Messages arriving together (up to max_batch, or whatever came within `linger`) are parsed and
//   applied as one EntityStore::BatchUpsert (update mode) per tenant, by one of `workers` threads
//   (chosen by topic, so one device's messages stay in order), so the store's listeners
//   (subscriptions, history, alerts) run inside that write. Devices are read from the registry once
//   per batch. A batch the store refuses is retried with backoff while storage is unavailable, then
//   applied message by message, so one bad message never holds the others back.
// - Malformed messages (payloads.h) are counted by reason and logged at most 10 per 10 s with the
//   topic and the reason; nothing a device sends can stop the ingester.
// - With a journal_dir, every message is appended to a journal (journal.h) before it is queued, and
//   the mark of what is applied moves after each batch. libmosquitto acknowledges a message before the
//   ingester sees it, so this is what keeps the acknowledged, unapplied ones across a crash (kill -9):
//   Start() applies what the journal holds past its mark before it connects.
// - Stop() disconnects, applies what was already received, and joins the threads; Start() after
//   Stop() reconnects to the same session.
// Thread-safety: Start/Stop from one thread; counters() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "http/metrics.h"
#include "modules/mqtt_ingest/device_registry.h"
#include "modules/mqtt_ingest/payloads.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"

namespace tl::mqtt_ingest {

// mqtt://host[:port] (also tcp://); the port defaults to 1883.
struct MqttUrl {
  std::string host;
  int port = 1883;
  static Result<MqttUrl> Parse(std::string_view url);
};

class Publisher {
 public:
  static Result<std::unique_ptr<Publisher>> Connect(const std::string& url, const std::string& client_id = "",
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  Status Publish(const std::string& topic, std::string_view payload, int qos = 1);
  // Waits until the broker has acknowledged everything published so far; Unavailable on timeout.
  Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  int64_t published() const;
  int64_t delivered() const;

  struct State;  // shared with the client's callbacks

 private:
  explicit Publisher(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

struct IngesterOptions {
  std::string url;        // mqtt://host:port
  std::string client_id;  // stable per process: the broker keeps this session's queue while it is down
  std::string group = "thanglong";  // shared-subscription group
  // Put before every topic ("hanoi/" → hanoi/devices/<id>/measurements): deployments sharing a broker
  // stay apart. Empty, or ending with '/'; no wildcards.
  std::string topic_prefix;
  size_t max_batch = 1000;          // messages applied in one write at most
  std::chrono::milliseconds linger{5};  // how long a batch waits for more messages
  size_t max_queue = 20000;         // received, not yet applied; beyond, the network thread waits
  // Parallel writers. A topic (one device's measurements, one tenant's fragments) always goes to the
  // same one, so its messages are applied in order. 1 on SQLite (one writer anyway); more on
  // PostgreSQL, where each write waits on round trips and its commit.
  int workers = 1;
  // Where the messages taken from the broker wait until applied (journal.h): empty, none (a crash then
  // loses the messages acknowledged to the broker and not yet applied). One directory per client id.
  std::string journal_dir;
};

// What the ingester has seen (this process, since start): exported on /metrics.
struct IngestCounters {
  std::atomic<int64_t> received{0};
  std::atomic<int64_t> applied{0};         // messages stored in full
  std::atomic<int64_t> unknown_device{0};  // measurements of a device not registered or disabled
  std::atomic<int64_t> storage_errors{0};  // messages the store failed to apply
  std::atomic<int64_t> batches{0};         // entity-store writes
  std::atomic<int64_t> malformed[std::size(kMalformedReasons)] = {};
  std::atomic<int64_t> connects{0};        // successful connections to the broker
  std::atomic<bool> connected{false};      // connected and subscribed
  std::atomic<int64_t> recovered{0};       // taken from the journal at start (not applied before a crash)
  std::atomic<int64_t> journal_errors{0};  // messages the journal could not record
  void Malformed(std::string_view reason);
};

class Ingester {
 public:
  Ingester(IngesterOptions options, ngsild::EntityStore* store, const DeviceRegistry* devices,
           std::shared_ptr<const ngsild::ContextRegistry> contexts, const Clock* clock);
  ~Ingester();
  Ingester(const Ingester&) = delete;
  Ingester& operator=(const Ingester&) = delete;

  // Starts the threads and the connection (which completes in the background; a broker that is down
  // is retried). Fails only on a bad URL or client setup.
  Status Start();
  void Stop();
  const IngestCounters& counters() const;
  // Adds the thanglong_mqtt_* series to `metrics` (they read this ingester's counters).
  void ExportMetrics(http::Metrics* metrics) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::mqtt_ingest
