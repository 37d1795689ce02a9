// Subscriptions: the matching of entity changes (pure), and on every backend the store, the durable
// outbox written in the entity's transaction, and delivery to a real local webhook that goes down
// and comes back (no notification lost), with backoff, throttling coalescing and leases.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/ngsild/entity.h"
#include "modules/ngsild/entity_store.h"
#include "modules/subscriptions/delivery.h"
#include "modules/subscriptions/store.h"
#include "modules/subscriptions/subscription.h"
#include "modules/subscriptions/webhook_sink.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::subscriptions {
namespace {

using nlohmann::json;
constexpr int64_t kT0 = 1790000000000;  // 2026-09-21

std::shared_ptr<const ngsild::ContextRegistry> Registry() {
  auto loaded = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
  EXPECT_TRUE(loaded.ok());
  return *loaded;
}

json Sensor(const std::string& id, double pm25, double lon, double lat) {
  return json::parse(R"({"id": ")" + id + R"(", "type": "AirSensor", "pm25": {"type": "Property", "value": )" +
                     std::to_string(pm25) + R"(}, "name": {"type": "Property", "value": "s"}, "location": )" +
                     R"({"type": "GeoProperty", "value": {"type": "Point", "coordinates": [)" + std::to_string(lon) +
                     "," + std::to_string(lat) + "]}}}");
}

class MatchingTest : public ::testing::Test {
 protected:
  Subscription Sub(const std::string& text) {
    json doc = json::parse(text);
    if (!doc.contains("id")) doc["id"] = "urn:ngsi-ld:Subscription:t";
    doc["type"] = "Subscription";
    if (!doc.contains("notification")) doc["notification"] = {{"endpoint", {{"uri", "http://127.0.0.1:9/n"}}}};
    auto s = Parse(doc, *reg_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : Subscription{};
  }
  std::optional<json> Eval(const Subscription& s, const json& compact_entity, std::vector<std::string> changed,
                           ngsild::ChangeKind kind = ngsild::ChangeKind::kUpdated, int64_t now = kT0) {
    auto doc = ngsild::ExpandPayload(compact_entity, *reg_->Default(), ngsild::PayloadKind::kEntity);
    EXPECT_TRUE(doc.ok());
    std::string tenant, id = compact_entity["id"];
    auto types = ngsild::TypesOf(*doc);
    for (auto& c : changed) c = reg_->Default()->Expand(c);
    ngsild::ChangedDoc entity(*doc);
    ngsild::EntityChange change{tenant, id, types, kind, changed, entity, now};
    return Evaluate(s, change, now);
  }
  std::shared_ptr<const ngsild::ContextRegistry> reg_ = Registry();
};

TEST_F(MatchingTest, TypeIdPatternAndWatchedAttributes) {
  auto s = Sub(R"({"entities": [{"type": "AirSensor", "idPattern": "^urn:ngsi-ld:AirSensor:hk-"}],
                  "watchedAttributes": ["pm25"]})");
  EXPECT_TRUE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:hk-1", 10, 105.8, 21.0), {"pm25"}));
  EXPECT_FALSE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:bd-1", 10, 105.8, 21.0), {"pm25"}));  // idPattern
  EXPECT_FALSE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:hk-1", 10, 105.8, 21.0), {"name"}));  // not watched
  json other = Sensor("urn:ngsi-ld:AirSensor:hk-1", 10, 105.8, 21.0);
  other["type"] = "WaterSensor";
  EXPECT_FALSE(Eval(s, other, {"pm25"}));  // type
  EXPECT_FALSE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:hk-1", 10, 105.8, 21.0), {"pm25"}, ngsild::ChangeKind::kDeleted));
}

TEST_F(MatchingTest, QAndGeoAndProjection) {
  auto s = Sub(R"({"entities": [{"type": "AirSensor"}], "q": "pm25>150",
                  "geoQ": {"geometry": "Point", "coordinates": [105.85, 21.03], "georel": "near;maxDistance==2000"},
                  "notification": {"attributes": ["pm25"], "format": "keyValues",
                                   "endpoint": {"uri": "https://example.org/n"}}})");
  auto hit = Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 180, 105.85, 21.031), {"pm25"});
  ASSERT_TRUE(hit);
  EXPECT_EQ((*hit)["pm25"], 180.0);
  EXPECT_FALSE(hit->contains("name"));                                                      // projected
  EXPECT_FALSE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 100, 105.85, 21.031), {"pm25"}));  // q
  EXPECT_FALSE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 180, 105.95, 21.031), {"pm25"}));  // too far
}

// q and geoQ are tested on the entity rendered with only the attributes they read: every attribute
// q names (also one that is neither watched nor notified, and a sub-attribute path) is there.
TEST_F(MatchingTest, QSeesEveryAttributeItNames) {
  auto s = Sub(R"({"entities": [{"type": "AirSensor"}], "watchedAttributes": ["pm25"],
                  "q": "pm25>150;name==\"s\";location.type==\"GeoProperty\"",
                  "notification": {"attributes": ["pm25"], "endpoint": {"uri": "https://example.org/n"}}})");
  auto hit = Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 180, 105.85, 21.031), {"pm25"});
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->contains("pm25"));
  EXPECT_FALSE(hit->contains("name"));  // the notification keeps its own projection
  json other = Sensor("urn:ngsi-ld:AirSensor:a", 180, 105.85, 21.031);
  other["name"]["value"] = "t";
  EXPECT_FALSE(Eval(s, other, {"pm25"}));  // name is tested though only pm25 changed
  auto geo_only = Sub(R"({"entities": [{"type": "AirSensor"}],
                  "geoQ": {"geometry": "Point", "coordinates": [105.85, 21.03], "georel": "near;maxDistance==2000"}})");
  EXPECT_TRUE(Eval(geo_only, Sensor("urn:ngsi-ld:AirSensor:a", 1, 105.85, 21.031), {"pm25"}));
  EXPECT_FALSE(Eval(geo_only, Sensor("urn:ngsi-ld:AirSensor:a", 1, 105.95, 21.031), {"pm25"}));
}

TEST_F(MatchingTest, ExpiryAndPause) {
  auto s = Sub(R"({"entities": [{"type": "AirSensor"}], "expiresAt": "2026-09-21T14:00:00+07:00"})");
  ASSERT_TRUE(s.expires_at_ms);
  EXPECT_EQ(*s.expires_at_ms, *ParseDateTime("2026-09-21T07:00:00Z", "x"));
  EXPECT_TRUE(Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 1, 105, 21), {"pm25"}, ngsild::ChangeKind::kUpdated,
                   *s.expires_at_ms - 1));
  EXPECT_FALSE(
      Eval(s, Sensor("urn:ngsi-ld:AirSensor:a", 1, 105, 21), {"pm25"}, ngsild::ChangeKind::kUpdated, *s.expires_at_ms));
  auto paused = Sub(R"({"entities": [{"type": "AirSensor"}], "isActive": false})");
  EXPECT_FALSE(Eval(paused, Sensor("urn:ngsi-ld:AirSensor:a", 1, 105, 21), {"pm25"}));
}

TEST_F(MatchingTest, ValidationNamesTheField) {
  auto bad = [&](const std::string& text) {
    json doc = json::parse(text);
    doc["id"] = "urn:ngsi-ld:Subscription:t";
    doc["type"] = "Subscription";
    auto s = Parse(doc, *reg_);
    EXPECT_FALSE(s.ok()) << text;
    return s.ok() ? std::string() : s.status().field();
  };
  const std::string ep = R"("notification": {"endpoint": {"uri": "http://h/n"}})";
  EXPECT_EQ(bad("{" + ep + "}"), "entities");
  EXPECT_EQ(bad(R"({"entities": [{"type": "A"}], "notification": {"endpoint": {"uri": "ftp://h/n"}}})"),
            "notification.endpoint.uri");
  EXPECT_EQ(bad(R"({"entities": [{"type": "A"}], "q": "a>>1", )" + ep + "}"), "q");
  EXPECT_EQ(bad(R"({"entities": [{"type": "A"}], "throttling": -1, )" + ep + "}"), "throttling");
  EXPECT_EQ(bad(R"({"entities": [{"type": "A"}], "expiresAt": "tomorrow", )" + ep + "}"), "expiresAt");
  EXPECT_EQ(bad(R"({"entities": [{"idPattern": "x"}], )" + ep + "}"), "entities[0].type");
  EXPECT_EQ(
      bad(R"({"entities": [{"type": "A"}], "geoQ": {"geometry": "Point", "coordinates": [500, 1], "georel": "near;maxDistance==1"}, )" +
          ep + "}")
          .rfind("geoQ.", 0),
      0u);
}

// ---------------------------------------------------------------------------------------------------

class OutboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = scratch_->Open();
    auto m = ngsild::EntityStore::Migrations();
    auto s = SubscriptionStore::Migrations();
    m.insert(m.end(), s.begin(), s.end());
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    reg_ = Registry();
    entities_ = std::make_unique<ngsild::EntityStore>(db_.get(), &clock_);
    subs_ = std::make_unique<SubscriptionStore>(db_.get(), &clock_, reg_);
    entities_->AddListener(subs_.get());
    ASSERT_TRUE(sink_.Start());
  }
  void TearDown() override { sink_.Stop(); }

  std::string Subscribe(const std::string& extra = "") {
    auto id = subs_->Create("", json::parse(R"({"type": "Subscription", "entities": [{"type": "AirSensor"}],
        "watchedAttributes": ["pm25"], "notification": {"endpoint": {"uri": ")" +
                                            sink_.url() + "\"}}" + extra + "}"));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  void Put(const std::string& id, double pm25) {
    auto doc = ngsild::ExpandPayload(Sensor(id, pm25, 105.8, 21.0), *reg_->Default(), ngsild::PayloadKind::kEntity);
    ASSERT_TRUE(doc.ok());
    if (entities_->Retrieve("", id).ok()) {
      ASSERT_TRUE(entities_->Replace("", id, *doc).ok());
    } else {
      ASSERT_TRUE(entities_->Create("", *doc).ok());
    }
  }
  // Every data element received, in order.
  std::vector<json> Received() {
    std::vector<json> out;
    for (const auto& b : sink_.Bodies()) {
      json n = json::parse(b);
      EXPECT_EQ(n["type"], "Notification");
      for (auto& d : n["data"]) out.push_back(d);
    }
    return out;
  }
  DeliveryOptions Options() {
    DeliveryOptions o;
    o.connect_timeout_ms = 500;
    o.total_timeout_ms = 2000;
    return o;
  }

  ManualClock clock_{kT0};
  std::unique_ptr<testing::ScratchStore> scratch_;
  std::unique_ptr<storage::Database> db_;
  std::shared_ptr<const ngsild::ContextRegistry> reg_;
  std::unique_ptr<ngsild::EntityStore> entities_;
  std::unique_ptr<SubscriptionStore> subs_;
  testing::WebhookSink sink_;
};

TEST_P(OutboxTest, CrudAndOutboxInTheEntityTransaction) {
  std::string id = Subscribe();
  auto got = subs_->Get("", id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->doc["id"], id);
  EXPECT_EQ(subs_->Create("", got->doc).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(subs_->Get("", "urn:x:none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(subs_->Get("other", id).status().code(), StatusCode::kNotFound);  // tenants apart
  Put("urn:ngsi-ld:AirSensor:1", 10);
  Put("urn:ngsi-ld:AirSensor:1", 20);
  EXPECT_EQ(*subs_->PendingCount(), 2);
  // A change in another tenant does not match.
  auto doc =
      ngsild::ExpandPayload(Sensor("urn:ngsi-ld:AirSensor:1", 1, 1, 1), *reg_->Default(), ngsild::PayloadKind::kEntity);
  ASSERT_TRUE(entities_->Create("other", *doc).ok());
  EXPECT_EQ(*subs_->PendingCount(), 2);
  // Paused: no new rows.
  ASSERT_TRUE(subs_->Update("", id, json{{"isActive", false}}).ok());
  Put("urn:ngsi-ld:AirSensor:1", 30);
  EXPECT_EQ(*subs_->PendingCount(), 2);
  int64_t total = 0;
  auto list = subs_->List("", 10, 0, &total);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(total, 1);
  EXPECT_EQ(subs_->Update("", id, json{{"throttling", "x"}}).field(), "throttling");
  // Deleting the subscription drops its rows.
  ASSERT_TRUE(subs_->Delete("", id).ok());
  EXPECT_EQ(*subs_->PendingCount(), 0);
  EXPECT_EQ(subs_->Delete("", id).code(), StatusCode::kNotFound);
}

TEST_P(OutboxTest, NoneLostWhileTheWebhookRestarts) {
  std::string id = Subscribe();
  Deliverer d(subs_.get(), &clock_, Options());
  Put("urn:ngsi-ld:AirSensor:1", 1);
  ASSERT_EQ(*d.RunOnce(), 1);
  ASSERT_EQ(Received().size(), 1u);
  uint16_t port = sink_.port();
  sink_.Stop();
  for (int i = 2; i <= 5; ++i) Put("urn:ngsi-ld:AirSensor:" + std::to_string(i % 2), i);
  EXPECT_EQ(*d.RunOnce(), 0);  // refused
  auto st = subs_->Get("", id);
  EXPECT_EQ(st->status.failures, 1);
  EXPECT_TRUE(st->status.last_failure);
  EXPECT_EQ(st->status.pending, 4);
  ASSERT_TRUE(st->status.retry_at);
  EXPECT_GE(*st->status.retry_at, kT0 + 800);  // backoff: ~1 s
  EXPECT_EQ(*d.RunOnce(), 0);                  // not due yet: nothing tried
  EXPECT_EQ(subs_->Get("", id)->status.failures, 1);
  clock_.Advance(1500);
  EXPECT_EQ(*d.RunOnce(), 0);  // still down: second failure, longer backoff
  st = subs_->Get("", id);
  EXPECT_EQ(st->status.failures, 2);
  EXPECT_GE(*st->status.retry_at - clock_.NowMillis(), 1600);
  ASSERT_TRUE(sink_.Start(port));
  clock_.Advance(2500);
  EXPECT_EQ(*d.RunOnce(), 4);
  auto data = Received();
  ASSERT_EQ(data.size(), 5u);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(data[i - 1]["pm25"]["value"], double(i)) << i;  // in order
  st = subs_->Get("", id);
  EXPECT_EQ(st->status.pending, 0);
  EXPECT_EQ(st->status.times_sent, 2);
  EXPECT_EQ(st->status.consecutive_failures, 0);
  EXPECT_EQ(*st->status.last_success, clock_.NowMillis());
  EXPECT_EQ(sink_.Bodies().size(), 2u);  // the four went in one POST
}

TEST_P(OutboxTest, ThrottlingCoalescesLaterChanges) {
  std::string id = Subscribe(R"(, "throttling": 10)");
  Deliverer d(subs_.get(), &clock_, Options());
  Put("urn:ngsi-ld:AirSensor:1", 1);
  ASSERT_EQ(*d.RunOnce(), 1);
  clock_.Advance(1000);
  Put("urn:ngsi-ld:AirSensor:1", 2);
  EXPECT_EQ(*d.RunOnce(), 0);  // deferred
  clock_.Advance(1000);
  Put("urn:ngsi-ld:AirSensor:2", 3);
  EXPECT_EQ(*d.RunOnce(), 0);
  EXPECT_EQ(sink_.Count(), 1u);
  clock_.Advance(8000);
  EXPECT_EQ(*d.RunOnce(), 2);  // both in one notification, none lost
  EXPECT_EQ(sink_.Count(), 2u);
  EXPECT_EQ(Received().size(), 3u);
}

TEST_P(OutboxTest, LeasesKeepTwoDeliverersApart) {
  Subscribe();
  for (int i = 0; i < 10; ++i) Put("urn:ngsi-ld:AirSensor:" + std::to_string(i), i);
  auto a = subs_->Claim("a", 6, 60000);
  auto b = subs_->Claim("b", 100, 60000);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 6u);
  EXPECT_EQ(b->size(), 4u);
  EXPECT_TRUE(subs_->Claim("c", 100, 60000)->empty());
  clock_.Advance(60001);  // leases expired: claimable again
  EXPECT_EQ(subs_->Claim("c", 100, 60000)->size(), 10u);
}

TEST_P(OutboxTest, ThreadDeliversManyWithoutLoss) {
  Subscribe();
  Deliverer d(subs_.get(), &clock_, Options());
  d.Start();
  const int n = 300;
  for (int i = 0; i < n; ++i) Put("urn:ngsi-ld:AirSensor:" + std::to_string(i % 7), i);
  EXPECT_TRUE(sink_.WaitFor(1, std::chrono::seconds(10)));
  for (int i = 0; i < 500 && Received().size() < size_t(n); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  d.Stop();
  EXPECT_EQ(Received().size(), size_t(n));
  EXPECT_EQ(*subs_->PendingCount(), 0);
}

TEST_P(OutboxTest, AnIdleThreadIsWokenByANewNotificationInsteadOfPolling) {
  Subscribe();
  DeliveryOptions o = Options();
  o.idle_poll_ms = 60'000;  // polling alone would take a minute
  Deliverer d(subs_.get(), &clock_, o);
  d.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the thread found nothing and waits
  auto started = std::chrono::steady_clock::now();
  Put("urn:ngsi-ld:AirSensor:woken", 42);
  EXPECT_TRUE(sink_.WaitFor(1, std::chrono::seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  // Stopped, the deliverer is no longer called: a later write queues its row for the next one.
  d.Stop();
  Put("urn:ngsi-ld:AirSensor:woken", 43);
  EXPECT_EQ(*subs_->PendingCount(), 1);
  ASSERT_EQ(Received().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::subscriptions
