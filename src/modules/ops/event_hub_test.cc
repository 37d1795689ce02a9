// The operations feed on every backend, with two entity stores on one database standing for two
// server processes: changes written through one reach the streams of the other's hub (polling, no
// in-process hook), in order, filtered by type, resumable from an event id, and a write that commits
// behind the cursor (stamped earlier, committed later) still arrives.
#include "modules/ops/event_hub.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "modules/ngsild/entity.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::ops {
namespace {

using nlohmann::json;

// The receiving end of a stream, kept in memory: what a client would read.
class MemoryStream final : public http::Stream {
 public:
  bool Write(std::string data) override {
    std::lock_guard lock(mu_);
    if (!open_) return false;
    text_ += data;
    cv_.notify_all();
    return true;
  }
  bool open() const override {
    std::lock_guard lock(mu_);
    return open_;
  }
  void Close() override {
    std::lock_guard lock(mu_);
    open_ = false;
    cv_.notify_all();
  }
  // Waits (at most 10 s, a guard against a hang) until `n` events have arrived; returns their data.
  std::vector<json> Events(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return Parse().size() >= n; });
    return Parse();
  }
  // Waits likewise for `n` deletion events.
  std::vector<json> Deletions(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return Parse("deleted").size() >= n; });
    return Parse("deleted");
  }
  std::vector<std::string> Ids() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (size_t at = text_.find("id: "); at != std::string::npos; at = text_.find("\nid: ", at + 1)) {
      size_t from = text_[at] == '\n' ? at + 5 : at + 4;
      out.push_back(text_.substr(from, text_.find('\n', from) - from));
    }
    return out;
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  std::vector<json> Parse(const std::string& event = "entity") const {
    std::vector<json> out;
    const std::string head = "event: " + event + "\ndata: ";
    for (size_t at = text_.find(head); at != std::string::npos; at = text_.find(head, at + 1)) {
      size_t from = at + head.size();
      out.push_back(json::parse(text_.substr(from, text_.find('\n', from) - from)));
    }
    return out;
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  bool open_ = true;
};

class EventHubTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_a_ = store_->Open();
    db_b_ = store_->Open();
    ASSERT_NE(db_a_, nullptr);
    ASSERT_NE(db_b_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_a_, ngsild::EntityStore::Migrations()).ok());
    writer_ = std::make_unique<ngsild::EntityStore>(db_a_.get(), &writer_clock_);   // "process A"
    reader_ = std::make_unique<ngsild::EntityStore>(db_b_.get(), &reader_clock_);   // "process B"
    auto reg = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
    ASSERT_TRUE(reg.ok());
    registry_ = *reg;
    auto sdm = registry_->FromUrl(registry_->FindById("thanglong-smart-data-models.jsonld")->url);
    ASSERT_TRUE(sdm.ok());
    sdm_ = *sdm;
    EventHubOptions o;
    o.poll_interval = std::chrono::milliseconds(20);
    o.page = 2;  // several pages per poll
    hub_ = std::make_unique<EventHub>(reader_.get(), sdm_, &reader_clock_, o);
    hub_->Start();
  }
  void TearDown() override { hub_->Stop(); }

  void Write(const std::string& id, const std::string& type, double pm25) {
    json body = {{"id", id},
                 {"type", type},
                 {"pm25", {{"type", "Property"}, {"value", pm25}, {"observedAt", "2026-11-18T07:00:00Z"}}},
                 {"location", {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {105.85, 21.03}}}}}}};
    auto doc = ngsild::ExpandPayload(body, *sdm_, ngsild::PayloadKind::kEntity);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    auto existing = writer_->Retrieve("", id);
    if (existing.ok()) {
      json fragment = *doc;
      fragment.erase("id");
      fragment.erase("type");
      fragment.erase(std::string(ngsild::kLocationIri));  // only pm25 changes
      ASSERT_TRUE(writer_->Update("", id, fragment).ok());
    } else {
      ASSERT_TRUE(writer_->Create("", *doc).ok());
    }
  }

  ManualClock writer_clock_{1795000000000};
  ManualClock reader_clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_a_, db_b_;
  std::unique_ptr<ngsild::EntityStore> writer_, reader_;
  std::shared_ptr<const ngsild::ContextRegistry> registry_;
  std::shared_ptr<const ngsild::Context> sdm_;
  std::unique_ptr<EventHub> hub_;
};

TEST_P(EventHubTest, ChangesWrittenByAnotherProcessReachEveryStreamInOrder) {
  auto all = std::make_shared<MemoryStream>();
  auto alerts = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(all, std::nullopt, {}).ok());
  ASSERT_TRUE(hub_->Subscribe(alerts, std::nullopt, {"Alert"}).ok());
  EXPECT_EQ(hub_->client_count(), 2u);
  EXPECT_NE(all->text().find("retry: 3000\n"), std::string::npos);

  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:hk-1", "AirQualityObserved", 42);
  // An entity changed twice between two polls shows once, as it is then: let this state arrive first.
  ASSERT_EQ(all->Events(1).size(), 1u);
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:hk-2", "AirQualityObserved", 55);
  Write("urn:ngsi-ld:AirQualityObserved:hk-3", "AirQualityObserved", 61);
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:Alert:7", "Alert", 0);
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:hk-1", "AirQualityObserved", 180);

  auto events = all->Events(5);
  ASSERT_EQ(events.size(), 5u) << all->text();
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"urn:ngsi-ld:AirQualityObserved:hk-1", "urn:ngsi-ld:AirQualityObserved:hk-2",
                                           "urn:ngsi-ld:AirQualityObserved:hk-3", "urn:ngsi-ld:Alert:7",
                                           "urn:ngsi-ld:AirQualityObserved:hk-1"}));
  // The names are the Smart Data Models' short ones; the event carries the values and the location.
  EXPECT_EQ(events[0]["type"], "AirQualityObserved");
  EXPECT_EQ(events[0]["attributes"]["pm25"], 42);
  EXPECT_EQ(events[4]["attributes"]["pm25"], 180);
  EXPECT_EQ(events[4]["changed"], json::array({"pm25"}));
  EXPECT_EQ(events[4]["version"], 2);
  EXPECT_EQ(events[4]["location"]["coordinates"][0], 105.85);
  EXPECT_EQ(events[4]["observedAt"], "2026-11-18T07:00:00Z");
  EXPECT_EQ(events[4]["modifiedAt"], FormatRfc3339(1795000004000));
  EXPECT_EQ(all->Ids().back(), "1795000004000:urn:ngsi-ld:AirQualityObserved:hk-1");
  // The Alert-only client got just the alert.
  auto only = alerts->Events(1);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0]["id"], "urn:ngsi-ld:Alert:7");
  EXPECT_EQ(only[0]["type"], "Alert");
}

TEST_P(EventHubTest, DeletionsReachTheStreamsThatFollowTheType) {
  auto all = std::make_shared<MemoryStream>();
  auto air = std::make_shared<MemoryStream>();
  auto alerts = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(all, std::nullopt, {}).ok());
  ASSERT_TRUE(hub_->Subscribe(air, std::nullopt, {"AirQualityObserved"}).ok());
  ASSERT_TRUE(hub_->Subscribe(alerts, std::nullopt, {"Alert"}).ok());
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:gone-1", "AirQualityObserved", 10);
  Write("urn:ngsi-ld:AirQualityObserved:gone-2", "AirQualityObserved", 20);
  ASSERT_EQ(all->Events(2).size(), 2u);
  writer_clock_.Advance(1000);
  ASSERT_TRUE(writer_->Delete("", "urn:ngsi-ld:AirQualityObserved:gone-1").ok());
  writer_clock_.Advance(1000);
  auto batch = writer_->BatchDelete("", {"urn:ngsi-ld:AirQualityObserved:gone-2"});
  ASSERT_TRUE(batch.ok() && batch->errors.empty());

  auto deleted = all->Deletions(2);
  ASSERT_EQ(deleted.size(), 2u) << all->text();
  EXPECT_EQ(deleted[0]["id"], "urn:ngsi-ld:AirQualityObserved:gone-1");
  EXPECT_EQ(deleted[0]["type"], "AirQualityObserved");
  EXPECT_EQ(deleted[0]["deletedAt"], FormatRfc3339(1795000002000));
  EXPECT_EQ(deleted[1]["id"], "urn:ngsi-ld:AirQualityObserved:gone-2");
  EXPECT_EQ(all->Ids().back(), "1795000003000:urn:ngsi-ld:AirQualityObserved:gone-2");
  EXPECT_EQ(air->Deletions(2).size(), 2u);
  // Created again after its deletion: an entity event follows the deletion.
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:gone-1", "AirQualityObserved", 30);
  auto events = all->Events(3);
  ASSERT_EQ(events.size(), 3u) << all->text();
  EXPECT_EQ(events[2]["attributes"]["pm25"], 30);
  EXPECT_TRUE(alerts->Deletions(0).empty());  // another type: nothing
  EXPECT_TRUE(alerts->Events(0).empty());
}

TEST_P(EventHubTest, AClientFollowsItsOwnTenantOnly) {
  auto main_city = std::make_shared<MemoryStream>();
  auto water = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(main_city, std::nullopt, {}).ok());
  ASSERT_TRUE(hub_->Subscribe(water, std::nullopt, {}, "hn-water").ok());
  writer_clock_.Advance(1000);
  json gauge = {{"id", "urn:ngsi-ld:WaterObserved:song-hong-1"},
                {"type", "WaterObserved"},
                {"height", {{"type", "Property"}, {"value", 4.2}}}};
  auto doc = ngsild::ExpandPayload(gauge, *sdm_, ngsild::PayloadKind::kEntity);
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(writer_->Create("hn-water", *doc).ok());
  Write("urn:ngsi-ld:AirQualityObserved:default-1", "AirQualityObserved", 12);
  auto in_water = water->Events(1);
  ASSERT_EQ(in_water.size(), 1u) << water->text();
  EXPECT_EQ(in_water[0]["id"], "urn:ngsi-ld:WaterObserved:song-hong-1");
  EXPECT_EQ(in_water[0]["attributes"]["height"], 4.2);
  auto in_default = main_city->Events(1);
  ASSERT_EQ(in_default.size(), 1u) << main_city->text();
  EXPECT_EQ(in_default[0]["id"], "urn:ngsi-ld:AirQualityObserved:default-1");
  // A deletion in the tenant reaches its client alone.
  writer_clock_.Advance(1000);
  ASSERT_TRUE(writer_->Delete("hn-water", "urn:ngsi-ld:WaterObserved:song-hong-1").ok());
  ASSERT_EQ(water->Deletions(1).size(), 1u) << water->text();
  EXPECT_TRUE(main_city->Deletions(0).empty());
  EXPECT_EQ(water->Events(0).size(), 1u);  // nothing of the default tenant
}

TEST_P(EventHubTest, AResumedClientGetsWhatCameAfterItsLastEventId) {
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:a", "AirQualityObserved", 1);
  writer_clock_.Advance(5000);
  Write("urn:ngsi-ld:AirQualityObserved:b", "AirQualityObserved", 2);
  writer_clock_.Advance(5000);
  Write("urn:ngsi-ld:AirQualityObserved:c", "AirQualityObserved", 3);
  auto resumed = std::make_shared<MemoryStream>();
  auto cursor = ParseEventId("1795000006000:urn:ngsi-ld:AirQualityObserved:b", "Last-Event-ID");
  ASSERT_TRUE(cursor.ok());
  ASSERT_TRUE(hub_->Subscribe(resumed, *cursor, {}).ok());
  auto events = resumed->Events(2);
  // c comes; a (long before) does not. b, the resume point itself, is within the lookback and may come
  // again (at least once); nothing older does.
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["id"], "urn:ngsi-ld:AirQualityObserved:c");
  for (const auto& e : events) EXPECT_NE(e["id"], "urn:ngsi-ld:AirQualityObserved:a");

  EXPECT_EQ(ParseEventId("abc", "Last-Event-ID").status().field(), "Last-Event-ID");
  EXPECT_FALSE(ParseEventId("12:", "Last-Event-ID").ok());
  EXPECT_FALSE(ParseEventId(":urn:x", "Last-Event-ID").ok());
}

TEST_P(EventHubTest, AWriteThatCommitsBehindTheCursorStillArrivesOnce) {
  auto s = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(s, std::nullopt, {}).ok());
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:late-2", "AirQualityObserved", 2);
  ASSERT_EQ(s->Events(1).size(), 1u);
  // Another writer stamped its change 500 ms earlier but commits only now, after the cursor passed it.
  writer_clock_.Advance(-500);
  Write("urn:ngsi-ld:AirQualityObserved:late-1", "AirQualityObserved", 1);
  auto events = s->Events(2);
  ASSERT_EQ(events.size(), 2u) << s->text();
  EXPECT_EQ(events[1]["id"], "urn:ngsi-ld:AirQualityObserved:late-1");
  // Later polls re-read the lookback window but do not send either again.
  writer_clock_.Advance(1500);
  Write("urn:ngsi-ld:AirQualityObserved:late-3", "AirQualityObserved", 3);
  events = s->Events(3);
  ASSERT_EQ(events.size(), 3u) << s->text();
  EXPECT_EQ(events[2]["id"], "urn:ngsi-ld:AirQualityObserved:late-3");
}

TEST_P(EventHubTest, StreamsThatCloseAreDroppedAndStopClosesTheRest) {
  auto leaving = std::make_shared<MemoryStream>();
  auto staying = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(leaving, std::nullopt, {}).ok());
  ASSERT_TRUE(hub_->Subscribe(staying, std::nullopt, {}).ok());
  leaving->Close();
  writer_clock_.Advance(1000);
  Write("urn:ngsi-ld:AirQualityObserved:x", "AirQualityObserved", 1);
  ASSERT_EQ(staying->Events(1).size(), 1u);
  for (int i = 0; i < 500 && hub_->client_count() != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(hub_->client_count(), 1u);
  hub_->Stop();
  EXPECT_FALSE(staying->open());
  EXPECT_EQ(hub_->client_count(), 0u);
  EXPECT_FALSE(hub_->Subscribe(std::make_shared<MemoryStream>(), std::nullopt, {}).ok());
}

TEST_P(EventHubTest, IdleStreamsGetAHeartbeatComment) {
  hub_->Stop();
  EventHubOptions o;
  o.poll_interval = std::chrono::milliseconds(20);
  o.heartbeat = std::chrono::milliseconds(50);
  hub_ = std::make_unique<EventHub>(reader_.get(), sdm_, &reader_clock_, o);
  hub_->Start();
  auto s = std::make_shared<MemoryStream>();
  ASSERT_TRUE(hub_->Subscribe(s, std::nullopt, {}).ok());
  for (int i = 0; i < 500 && s->text().find(": heartbeat\n\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(s->text().find(": heartbeat\n\n"), std::string::npos) << s->text();
  EXPECT_TRUE(s->Events(0).empty());  // comments only, no event
}

INSTANTIATE_TEST_SUITE_P(Backends, EventHubTest, ::testing::ValuesIn(testing::BackendNames()));

}  // namespace
}  // namespace tl::ops
