#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/thread_name.h"
#include "modules/mqtt_ingest/client_internal.h"
#include "modules/mqtt_ingest/journal.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"

namespace tl::mqtt_ingest {

using nlohmann::json;

void IngestCounters::Malformed(std::string_view reason) {
  for (size_t i = 0; i < std::size(kMalformedReasons); ++i) {
    if (reason == kMalformedReasons[i]) {
      malformed[i]++;
      return;
    }
  }
  malformed[std::size(kMalformedReasons) - 1]++;
}

namespace {

struct Message {
  std::string topic;
  std::string payload;
  Journal::Position journal;  // where the journal has it; segment 0: not journaled
};

// At most `burst` log lines per window; the rest are counted and summarised in the next window.
class LogLimiter {
 public:
  bool Allow() {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (now - window_start_ > std::chrono::seconds(10)) {
      if (suppressed_ > 0) {
        spdlog::warn(R"("msg":"mqtt: refused messages not logged, rate limit","count":{})", suppressed_);
      }
      window_start_ = now;
      in_window_ = 0;
      suppressed_ = 0;
    }
    if (in_window_ < 10) {
      ++in_window_;
      return true;
    }
    ++suppressed_;
    return false;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_start_{};
  int in_window_ = 0;
  int64_t suppressed_ = 0;
};

// A JSON-escaped, shortened string for a log line.
std::string LogText(std::string_view s) {
  return json(std::string(s.substr(0, 200))).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

struct Ingester::Impl {
  IngesterOptions options;
  ngsild::EntityStore* store;
  const DeviceRegistry* devices;
  std::shared_ptr<const ngsild::ContextRegistry> contexts;
  const Clock* clock;
  IngestCounters counters;
  LogLimiter limiter;

  // One lane per worker: its own queue and thread. A device's measurements (one topic) always go to
  // the same lane, so they are applied in the order they arrived; lanes write in parallel (several
  // transactions at once on PostgreSQL).
  struct Lane {
    std::mutex mu;
    std::condition_variable arrived;  // the worker waits for messages
    std::condition_variable space;    // the network thread waits for room in the queue
    std::deque<Message> queue;
    std::unique_ptr<Journal> journal;  // with options.journal_dir
    std::thread worker;
  };
  std::vector<std::unique_ptr<Lane>> lanes;
  std::atomic<bool> stop_worker{false};
  std::atomic<bool> stopping{false};
  bool running = false;
  MosquittoHandle mosq;

  // Sets a flag the workers or the network thread wait on, and wakes them (under each lane's lock, so
  // no waiter misses it).
  void Raise(std::atomic<bool>& flag) {
    flag = true;
    for (auto& lane : lanes) {
      { std::lock_guard lock(lane->mu); }
      lane->arrived.notify_all();
      lane->space.notify_all();
    }
  }

  void LogRefused(const std::string& topic, const std::string& reason, const std::string& detail) {
    if (!limiter.Allow()) return;
    spdlog::warn(R"("msg":"mqtt: message refused","topic":{},"reason":"{}","detail":{})", LogText(topic), reason,
                 LogText(detail));
  }

  // --- network thread --------------------------------------------------------------------------------
  static void OnConnect(mosquitto* m, void* obj, int rc) {
    auto* self = static_cast<Impl*>(obj);
    if (rc != 0) {
      spdlog::warn(R"("msg":"mqtt: the broker refused the connection","reason":"{}")", mosquitto_connack_string(rc));
      return;
    }
    self->counters.connects++;
    const std::string share = "$share/" + self->options.group + "/";
    std::vector<std::string> subs;
    for (const char* topic : {"ngsi-ld/v1/entities", "ngsi-ld/v1/+/entities", "devices/+/measurements"}) {
      subs.push_back(share + self->options.topic_prefix + topic);
    }
    std::vector<char*> ptrs;
    for (auto& sub : subs) ptrs.push_back(sub.data());
    int src = mosquitto_subscribe_multiple(m, nullptr, static_cast<int>(ptrs.size()), ptrs.data(), 1, 0, nullptr);
    if (src != MOSQ_ERR_SUCCESS) {
      spdlog::warn(R"("msg":"mqtt: cannot subscribe","error":"{}")", mosquitto_strerror(src));
    }
  }

  // The broker granted the subscriptions: from now on every message published reaches the group.
  static void OnSubscribe(mosquitto*, void* obj, int, int count, const int* granted) {
    auto* self = static_cast<Impl*>(obj);
    for (int i = 0; i < count; ++i) {
      if (granted[i] > 2) {
        spdlog::error(R"("msg":"mqtt: the broker refused a subscription","group":"{}")", self->options.group);
        return;
      }
    }
    self->counters.connected = true;
    spdlog::info(R"("msg":"mqtt: subscribed","client_id":"{}","group":"{}")", self->options.client_id,
                 self->options.group);
  }

  static void OnDisconnect(mosquitto*, void* obj, int rc) {
    auto* self = static_cast<Impl*>(obj);
    self->counters.connected = false;
    if (!self->stopping.load()) {
      spdlog::warn(R"("msg":"mqtt: disconnected from the broker; reconnecting","error":"{}")", mosquitto_strerror(rc));
    }
  }

  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* self = static_cast<Impl*>(obj);
    self->counters.received++;
    Message m;
    m.topic = msg->topic ? msg->topic : "";
    if (msg->payload && msg->payloadlen > 0) {
      m.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
    }
    Lane& lane = *self->lanes[std::hash<std::string>{}(m.topic) % self->lanes.size()];
    // On record before anything else: the broker already has its PUBACK. This thread alone appends,
    // so the journal's order is the queue's.
    if (lane.journal) {
      auto at = lane.journal->Append(m.topic, m.payload);
      if (at.ok()) {
        m.journal = *at;
      } else {
        self->counters.journal_errors++;
        if (self->limiter.Allow()) {
          spdlog::error(R"("msg":"mqtt: the journal cannot record a message","error":{})",
                        LogText(at.status().message()));
        }
      }
    }
    std::unique_lock lock(lane.mu);
    // Backpressure: while the store is behind, the broker keeps the messages (and the session's queue).
    const size_t room = std::max<size_t>(1, self->options.max_queue / self->lanes.size());
    lane.space.wait(lock, [&] { return lane.queue.size() < room || self->stopping.load(); });
    lane.queue.push_back(std::move(m));
    // Wake the worker only when it waits for a first message or for a full batch: a wake-up per
    // message would cost a context switch each.
    if (lane.queue.size() == 1 || lane.queue.size() == self->options.max_batch) lane.arrived.notify_one();
  }

  // --- worker thread ---------------------------------------------------------------------------------
  void Run(Lane& lane) {
    std::vector<Message> batch;
    while (true) {
      {
        std::unique_lock lock(lane.mu);
        lane.arrived.wait(lock, [&] { return !lane.queue.empty() || stop_worker.load(); });
        if (lane.queue.empty() && stop_worker.load()) return;
        if (lane.queue.size() < options.max_batch && !stop_worker.load()) {
          lane.arrived.wait_for(lock, options.linger,
                                [&] { return lane.queue.size() >= options.max_batch || stop_worker.load(); });
        }
        batch.clear();
        while (!lane.queue.empty() && batch.size() < options.max_batch) {
          batch.push_back(std::move(lane.queue.front()));
          lane.queue.pop_front();
        }
        lane.space.notify_all();
      }
      try {
        Process(batch);
      } catch (const std::exception& e) {  // nothing a device sends may stop the ingester
        counters.storage_errors += static_cast<int64_t>(batch.size());
        spdlog::error(R"("msg":"mqtt: a batch failed unexpectedly","error":{})", LogText(e.what()));
      }
      MarkApplied(lane, batch);
    }
  }

  // The batch is applied (or counted as failed, as it would be again): the journal can let it go.
  void MarkApplied(Lane& lane, const std::vector<Message>& batch) {
    if (!lane.journal) return;
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if (it->journal.segment == 0) continue;
      Status st = lane.journal->MarkApplied(it->journal);
      if (!st.ok()) {
        counters.journal_errors++;
        if (limiter.Allow()) spdlog::error(R"("msg":"mqtt: journal","error":{})", LogText(st.message()));
      }
      return;
    }
  }

  // Opens each lane's journal and applies, before anything new arrives, what the journals of the last
  // run held past their marks (also those of lanes this run does not have: the worker count changed).
  Status OpenJournals() {
    namespace fs = std::filesystem;
    const fs::path root(options.journal_dir);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return Internal("mqtt journal: cannot create " + root.string() + ": " + ec.message());
    // "lane-<k>" for a k below the worker count is a lane of this run; any other "lane-..." is a leftover.
    auto leftover = [&](const fs::path& dir) {
      const std::string name = dir.filename().string();
      if (name.rfind("lane-", 0) != 0) return false;
      int k = std::atoi(name.c_str() + 5);
      return !(name == "lane-" + std::to_string(k) && k < static_cast<int>(lanes.size()));
    };
    std::vector<std::unique_ptr<Journal>> extra;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      if (!leftover(entry.path())) continue;
      TL_ASSIGN_OR_RETURN(auto j, Journal::Open(entry.path().string()));
      extra.push_back(std::move(j));
    }
    if (ec) return Internal("mqtt journal: cannot list " + root.string() + ": " + ec.message());
    for (size_t k = 0; k < lanes.size(); ++k) {
      TL_ASSIGN_OR_RETURN(lanes[k]->journal, Journal::Open((root / ("lane-" + std::to_string(k))).string()));
    }
    std::vector<Journal*> all;
    for (auto& lane : lanes) all.push_back(lane->journal.get());
    for (auto& j : extra) all.push_back(j.get());
    int64_t recovered_now = 0;
    for (Journal* j : all) {
      const auto& entries = j->Unapplied();
      for (size_t start = 0; start < entries.size(); start += options.max_batch) {
        std::vector<Message> batch;
        for (size_t i = start; i < std::min(entries.size(), start + options.max_batch); ++i) {
          batch.push_back({entries[i].topic, entries[i].payload, {}});
        }
        Process(batch);
      }
      recovered_now += static_cast<int64_t>(entries.size());
      TL_RETURN_IF_ERROR(j->MarkRecoveredApplied());
    }
    extra.clear();
    std::vector<fs::path> applied;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      if (leftover(entry.path())) applied.push_back(entry.path());
    }
    for (const auto& dir : applied) fs::remove_all(dir, ec);
    counters.recovered += recovered_now;
    if (recovered_now > 0) {
      spdlog::warn(R"("msg":"mqtt: applied the messages the journal kept; the last run ended before applying them","count":{})",
                   recovered_now);
    }
    return Status::Ok();
  }

  struct Pending {
    size_t message;
    ngsild::BatchItem item;
  };

  void Process(std::vector<Message>& batch) {
    const size_t n = batch.size();
    enum class Outcome { kPending, kRefused, kStorageError };
    std::vector<Outcome> outcome(n, Outcome::kPending);
    std::vector<Topic> topics(n);
    std::vector<std::optional<std::vector<Measurement>>> measurements(n);
    std::map<std::string, std::vector<Pending>> by_tenant;
    std::set<std::string> device_ids;
    const int64_t now = clock->NowMillis();
    auto refuse = [&](size_t i, const std::string& reason, const std::string& detail) {
      outcome[i] = Outcome::kRefused;
      counters.Malformed(reason);
      LogRefused(batch[i].topic, reason, detail);
    };

    for (size_t i = 0; i < n; ++i) {
      const std::string& prefix = options.topic_prefix;
      if (batch[i].topic.compare(0, prefix.size(), prefix) == 0) {
        topics[i] = ParseTopic(std::string_view(batch[i].topic).substr(prefix.size()));
      }
      if (topics[i].kind == TopicKind::kUnknown) {
        refuse(i, "topic", "not a topic of docs/mqtt.md");
        continue;
      }
      if (auto bad = CheckPayload(batch[i].payload)) {
        refuse(i, bad->reason, bad->detail);
        continue;
      }
      if (topics[i].kind == TopicKind::kMeasurements) {
        auto parsed = ParseMeasurements(batch[i].payload, now);
        if (!parsed.ok()) {
          refuse(i, parsed.error.reason, parsed.error.detail);
          continue;
        }
        measurements[i] = std::move(*parsed.value);
        device_ids.insert(topics[i].device_id);
      } else {
        auto parsed = ParseEntities(batch[i].payload, *contexts, devices->context());
        if (!parsed.ok()) {
          refuse(i, parsed.error.reason, parsed.error.detail);
          continue;
        }
        bool any = false;
        for (auto& item : *parsed.value) {
          if (!item.status.ok()) {
            counters.Malformed("entity");
            LogRefused(batch[i].topic, "entity", item.status.field() + ": " + item.status.message());
            continue;
          }
          any = true;
          by_tenant[topics[i].tenant].push_back({i, std::move(item)});
        }
        if (!any) outcome[i] = Outcome::kRefused;
      }
    }

    if (!device_ids.empty()) {
      auto registered = devices->LoadMany(std::vector<std::string>(device_ids.begin(), device_ids.end()));
      for (size_t i = 0; i < n; ++i) {
        if (!measurements[i]) continue;
        if (!registered.ok()) {
          outcome[i] = Outcome::kStorageError;
          continue;
        }
        auto d = registered->find(topics[i].device_id);
        if (d == registered->end() || d->second.disabled) {
          outcome[i] = Outcome::kRefused;
          counters.unknown_device++;
          LogRefused(batch[i].topic, "unknown_device",
                     d == registered->end() ? "no such device in the registry" : "the device is disabled");
          continue;
        }
        auto items = MeasurementItems(d->second, *measurements[i]);
        if (!items.ok()) {
          refuse(i, items.error.reason, items.error.detail);
          continue;
        }
        for (auto& item : *items.value) by_tenant[d->second.tenant].push_back({i, std::move(item)});
      }
      if (!registered.ok() && limiter.Allow()) {
        spdlog::error(R"("msg":"mqtt: cannot read the device registry","error":{})",
                      LogText(registered.status().message()));
      }
    }

    for (auto& [tenant, pending] : by_tenant) {
      for (size_t start = 0; start < pending.size(); start += ngsild::kMaxBatch) {
        size_t end = std::min(pending.size(), start + ngsild::kMaxBatch);
        Apply(tenant, pending, start, end, outcome);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (outcome[i] == Outcome::kPending) counters.applied++;
      if (outcome[i] == Outcome::kStorageError) counters.storage_errors++;
    }
  }

  template <typename OutcomeVec>
  void Apply(const std::string& tenant, std::vector<Pending>& pending, size_t start, size_t end, OutcomeVec& outcome) {
    using Outcome = typename OutcomeVec::value_type;
    auto items_of = [&](size_t from, size_t to) {
      std::vector<ngsild::BatchItem> items;
      items.reserve(to - from);
      for (size_t k = from; k < to; ++k) items.push_back(pending[k].item);
      return items;
    };
    auto mark = [&](const ngsild::BatchResult& r, size_t from, size_t to) {
      std::set<std::string> failed;
      for (const auto& e : r.errors) failed.insert(e.entity_id);
      for (size_t k = from; k < to; ++k) {
        if (failed.contains(pending[k].item.id) && outcome[pending[k].message] == Outcome::kPending) {
          outcome[pending[k].message] = Outcome::kStorageError;
        }
      }
      for (const auto& e : r.errors) {
        if (limiter.Allow()) {
          spdlog::warn(R"("msg":"mqtt: the entity store refused an entity","entity":{},"error":{})",
                       LogText(e.entity_id), LogText(e.error.message()));
        }
      }
    };
    // The whole chunk in one write, retried while storage is unavailable.
    Status last;
    for (int attempt = 0; attempt < 4; ++attempt) {
      counters.batches++;
      auto r = store->BatchUpsert(tenant, items_of(start, end), ngsild::UpsertMode::kUpdate);
      if (r.ok()) {
        mark(*r, start, end);
        return;
      }
      last = r.status();
      if (last.code() != StatusCode::kUnavailable) break;
      if (stop_worker.load() && attempt > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100) * (1 << (2 * attempt)));
    }
    if (limiter.Allow()) {
      spdlog::error(R"("msg":"mqtt: a batch write failed; applying its messages one by one","tenant":{},"error":{})",
                    LogText(tenant), LogText(last.message()));
    }
    // Message by message, so that one message the store cannot take does not hold back the others.
    size_t k = start;
    while (k < end) {
      size_t to = k;
      while (to < end && pending[to].message == pending[k].message) ++to;
      counters.batches++;
      auto r = store->BatchUpsert(tenant, items_of(k, to), ngsild::UpsertMode::kUpdate);
      if (r.ok()) {
        mark(*r, k, to);
      } else {
        outcome[pending[k].message] = Outcome::kStorageError;
        if (limiter.Allow()) {
          spdlog::error(R"("msg":"mqtt: a message could not be stored","error":{})", LogText(r.status().message()));
        }
      }
      k = to;
    }
  }
};

Ingester::Ingester(IngesterOptions options, ngsild::EntityStore* store, const DeviceRegistry* devices,
                   std::shared_ptr<const ngsild::ContextRegistry> contexts, const Clock* clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->store = store;
  impl_->devices = devices;
  impl_->contexts = std::move(contexts);
  impl_->clock = clock;
}

Ingester::~Ingester() { Stop(); }

const IngestCounters& Ingester::counters() const { return impl_->counters; }

Status Ingester::Start() {
  Impl& im = *impl_;
  if (im.running) return Status::Ok();
  TL_RETURN_IF_ERROR(InitMosquitto());
  TL_ASSIGN_OR_RETURN(MqttUrl u, MqttUrl::Parse(im.options.url));
  if (im.options.client_id.empty() || im.options.client_id.size() > 200) {
    return InvalidArgument("a stable client id of at most 200 bytes is needed", "mqtt_client_id");
  }
  if (im.options.group.empty() || im.options.group.find_first_of("/+#") != std::string::npos) {
    return InvalidArgument("a shared-subscription group name without / + #", "mqtt_group");
  }
  const std::string& prefix = im.options.topic_prefix;
  if (prefix.find_first_of("+#") != std::string::npos || (!prefix.empty() && prefix.back() != '/') ||
      prefix.rfind("$", 0) == 0) {
    return InvalidArgument("empty, or a topic prefix ending with / and without + # or a leading $", "mqtt_topic_prefix");
  }
  if (im.options.max_batch == 0) im.options.max_batch = 1;
  im.mosq.reset(mosquitto_new(im.options.client_id.c_str(), false, &im));  // persistent session
  if (!im.mosq) return Internal("libmosquitto: cannot create a client");
  mosquitto* m = im.mosq.get();
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_max_inflight_messages_set(m, 100);
  mosquitto_reconnect_delay_set(m, 1, 10, true);  // short: a restarted broker forgets shared subscriptions
  mosquitto_connect_callback_set(m, &Impl::OnConnect);
  mosquitto_disconnect_callback_set(m, &Impl::OnDisconnect);
  mosquitto_subscribe_callback_set(m, &Impl::OnSubscribe);
  mosquitto_message_callback_set(m, &Impl::OnMessage);
  im.stop_worker = false;
  im.stopping = false;
  im.lanes.clear();
  for (int i = 0; i < std::max(1, im.options.workers); ++i) im.lanes.push_back(std::make_unique<Impl::Lane>());
  if (!im.options.journal_dir.empty()) {
    Status journals = im.OpenJournals();
    if (!journals.ok()) {
      im.lanes.clear();
      im.mosq.reset();
      return journals;
    }
  }
  for (auto& lane_ptr : im.lanes) {
    Impl::Lane* lane = lane_ptr.get();
    lane->worker = std::thread([&im, lane] {
      NameThisThread("tl-mqtt-lane");
      im.Run(*lane);
    });
  }
  int rc = mosquitto_connect_async(m, u.host.c_str(), u.port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    // The network thread retries (reconnect delay) until the broker is there.
    spdlog::warn(R"("msg":"mqtt: the broker is not reachable yet; retrying","url":"{}","error":"{}")",
                 im.options.url, mosquitto_strerror(rc));
  }
  rc = mosquitto_loop_start(m);
  if (rc != MOSQ_ERR_SUCCESS) {
    im.Raise(im.stop_worker);
    for (auto& lane : im.lanes) lane->worker.join();
    im.lanes.clear();
    im.mosq.reset();
    return Internal(std::string("libmosquitto: ") + mosquitto_strerror(rc));
  }
  im.running = true;
  return Status::Ok();
}

void Ingester::Stop() {
  Impl& im = *impl_;
  if (!im.running) return;
  im.Raise(im.stopping);  // a network thread waiting for room in a queue goes on
  // No more messages: the broker keeps the session's later ones for the next start.
  mosquitto_disconnect(im.mosq.get());
  mosquitto_loop_stop(im.mosq.get(), false);
  im.Raise(im.stop_worker);
  // Each worker stops after applying everything already received (the broker had its PUBACKs).
  for (auto& lane : im.lanes) lane->worker.join();
  im.lanes.clear();
  im.mosq.reset();
  im.counters.connected = false;
  im.running = false;
}

void Ingester::ExportMetrics(http::Metrics* metrics) const {
  const IngestCounters* c = &impl_->counters;
  auto counter = [&](const char* name, const char* help, const std::atomic<int64_t>* v, std::string labels = {}) {
    metrics->AddExternal({name, help, "counter", [v] { return static_cast<double>(v->load()); }, std::move(labels)});
  };
  counter("thanglong_mqtt_messages_received_total", "MQTT messages received by this process", &c->received);
  counter("thanglong_mqtt_messages_applied_total", "MQTT messages applied in full to the entity store", &c->applied);
  counter("thanglong_mqtt_messages_recovered_total",
          "MQTT messages taken from the journal at start: acknowledged to the broker, not applied before the last run ended",
          &c->recovered);
  counter("thanglong_mqtt_journal_errors_total", "MQTT messages the journal could not record, or marks it could not write",
          &c->journal_errors);
  for (size_t i = 0; i < std::size(kMalformedReasons); ++i) {
    counter("thanglong_mqtt_messages_malformed_total", "MQTT messages (or NGSI-LD elements) refused, by reason",
            &c->malformed[i], std::string("reason=\"") + kMalformedReasons[i] + "\"");
  }
  counter("thanglong_mqtt_messages_unknown_device_total",
          "Measurements of devices not in the registry (or disabled)", &c->unknown_device);
  counter("thanglong_mqtt_storage_errors_total", "MQTT messages the entity store failed to apply", &c->storage_errors);
  counter("thanglong_mqtt_batches_total", "Entity-store writes made by the MQTT ingester", &c->batches);
  counter("thanglong_mqtt_connects_total", "Connections made to the MQTT broker", &c->connects);
  metrics->AddExternal({"thanglong_mqtt_connected", "1 while connected to the MQTT broker and subscribed", "gauge",
                        [c] { return c->connected.load() ? 1.0 : 0.0; }});
}

}  // namespace tl::mqtt_ingest
