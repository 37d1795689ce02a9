// The entity store on every backend: single-entity operations, tenants, attribute updates, batches in
// one transaction, queries (ids, types, idPattern, q, geo with the bounding-box pre-filter, paging,
// count) and the change listener.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/ngsild/entity_store.h"
#include "modules/ngsild/errors.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::ngsild {
namespace {

using nlohmann::json;

constexpr const char* kTs = "https://ngsi-ld-test-suite/context#";
std::string Ts(const std::string& term) {
  return kTs + term;
}

// Records every change; fails on demand.
class Recorder final : public ChangeListener {
 public:
  struct Seen {
    std::string tenant, id, kind;
    std::vector<std::string> types, changed;
    json entity;
    int64_t at = 0;
  };
  Status OnEntityChanged(storage::Session& s, const EntityChange& c) override {
    if (fail) return Conflict("the listener refuses");
    // The listener writes in the same transaction (as a subscription or history module would).
    TL_RETURN_IF_ERROR(s.Exec("INSERT INTO listener_log (entity_id) VALUES (?)", {c.entity_id}).status());
    seen.push_back(
        {c.tenant, c.entity_id, ChangeKindName(c.kind), c.types, c.changed_attributes, c.entity.Whole(), c.at_ms});
    return Status::Ok();
  }
  std::vector<Seen> seen;
  bool fail = false;
};

class EntityStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto m = EntityStore::Migrations();
    m.push_back({1, "listener log", "CREATE TABLE listener_log (entity_id TEXT NOT NULL)"});
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    entities_ = std::make_unique<EntityStore>(db_.get(), &clock_);
    entities_->AddListener(&recorder_);
    auto loaded = ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
    ASSERT_TRUE(loaded.ok());
    reg_ = *loaded;
    ctx_ = *reg_->FromValue(json::parse(R"({"ts": "https://ngsi-ld-test-suite/context#", "Building": "ts:Building",
      "Vehicle": "ts:Vehicle", "name": "ts:name", "airQualityLevel": "ts:airQualityLevel", "speed": "ts:speed",
      "almostFull": "ts:almostFull", "locatedIn": "ts:locatedIn", "TouristDestination": "ts:TouristDestination"})"));
  }
  json Doc(const std::string& text) {
    auto d = ExpandPayload(json::parse(text), *ctx_, PayloadKind::kEntity);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : json::object();
  }
  json Fragment(const std::string& text) {
    auto d = ExpandPayload(json::parse(text), *ctx_, PayloadKind::kFragment);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : json::object();
  }
  json Building(const std::string& id, const std::string& name, int level, double lon, double lat) {
    return Doc(R"({"id": ")" + id + R"(", "type": "Building", "name": {"type": "Property", "value": ")" + name +
               R"("}, "airQualityLevel": {"type": "Property", "value": )" + std::to_string(level) +
               R"(}, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [)" +
               std::to_string(lon) + "," + std::to_string(lat) + "]}}}");
  }
  std::vector<std::string> Ids(const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.entities) out.push_back(e.doc["id"]);
    return out;
  }
  Result<QueryResult> Query(EntityQuery q, const std::string& tenant = "") {
    if (!q.context) q.context = ctx_;
    return entities_->QueryEntities(tenant, q);
  }
  // The rows of `table` (-1 when the read fails).
  int64_t CountRows(const std::string& table) {
    int64_t n = -1;
    EXPECT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                     TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM " + table));
                     n = rs.rows[0].Int(0);
                     return Status::Ok();
                   })
                    .ok());
    return n;
  }
  int64_t LogCount() { return CountRows("listener_log"); }

  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<EntityStore> entities_;
  Recorder recorder_;
  std::shared_ptr<const ContextRegistry> reg_;
  std::shared_ptr<const Context> ctx_;
};

TEST_P(EntityStoreTest, CreateRetrieveReplaceDelete) {
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:b1", "Eiffel Tower", 4, 2.29, 48.85)).ok());
  Status again = entities_->Create("", Building("urn:ngsi-ld:Building:b1", "Eiffel Tower", 4, 2.29, 48.85));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_STREQ(again.problem_type(), kAlreadyExists);

  auto got = entities_->Retrieve("", "urn:ngsi-ld:Building:b1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->created_at_ms, 1795000000000);
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->doc[Ts("name")]["value"], "Eiffel Tower");
  EXPECT_EQ(got->doc[Ts("name")]["createdAt"], "2026-11-18T11:06:40.000Z");

  clock_.Advance(60000);
  ASSERT_TRUE(entities_
                  ->Replace("", "urn:ngsi-ld:Building:b1",
                            Doc(R"({"id": "urn:ngsi-ld:Building:b1", "type": ["Building", "TouristDestination"],
                                         "name": {"type": "Property", "value": "Pisa Tower"}})"))
                  .ok());
  got = entities_->Retrieve("", "urn:ngsi-ld:Building:b1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->created_at_ms, 1795000000000);
  EXPECT_EQ(got->modified_at_ms, 1795000060000);
  EXPECT_EQ(got->version, 2);
  EXPECT_FALSE(got->doc.contains(Ts("airQualityLevel")));
  EXPECT_EQ(TypesOf(got->doc).size(), 2u);

  EXPECT_STREQ(entities_
                   ->Replace("", "urn:ngsi-ld:Building:nope", Doc(R"({"id": "urn:ngsi-ld:Building:nope",
               "type": "Building"})"))
                   .problem_type(),
               kResourceNotFound);
  ASSERT_TRUE(entities_->Delete("", "urn:ngsi-ld:Building:b1").ok());
  EXPECT_STREQ(entities_->Retrieve("", "urn:ngsi-ld:Building:b1").status().problem_type(), kResourceNotFound);
  EXPECT_STREQ(entities_->Delete("", "urn:ngsi-ld:Building:b1").problem_type(), kResourceNotFound);
  // The type index follows: no Building left.
  EntityQuery q;
  q.types = *TypeSelection::Parse("Building", *ctx_);
  EXPECT_TRUE(Query(q)->entities.empty());
  auto types = entities_->Types("");
  ASSERT_TRUE(types.ok());
  EXPECT_TRUE(types->empty());
}

TEST_P(EntityStoreTest, TenantsAreSeparateAndUnknownOnesAreNotFound) {
  ASSERT_TRUE(entities_->Create("city-a", Building("urn:ngsi-ld:Building:b1", "A", 1, 1, 1)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:b1", "default", 1, 1, 1)).ok());
  EXPECT_EQ(entities_->Retrieve("city-a", "urn:ngsi-ld:Building:b1")->doc[Ts("name")]["value"], "A");
  EXPECT_EQ(entities_->Retrieve("", "urn:ngsi-ld:Building:b1")->doc[Ts("name")]["value"], "default");
  auto missing = entities_->Retrieve("city-b", "urn:ngsi-ld:Building:b1");
  EXPECT_STREQ(missing.status().problem_type(), kNonexistentTenant);
  EntityQuery q;
  q.ids = {"urn:ngsi-ld:Building:b1"};
  EXPECT_STREQ(Query(q, "city-b").status().problem_type(), kNonexistentTenant);
  EXPECT_STREQ(entities_->Retrieve("city-a", "urn:ngsi-ld:Building:b2").status().problem_type(), kResourceNotFound);
  ASSERT_TRUE(entities_->Delete("city-a", "urn:ngsi-ld:Building:b1").ok());
  EXPECT_TRUE(entities_->Retrieve("", "urn:ngsi-ld:Building:b1").ok());
  // A tenant stays known once it existed.
  EXPECT_STREQ(entities_->Retrieve("city-a", "urn:ngsi-ld:Building:b1").status().problem_type(), kResourceNotFound);
}

TEST_P(EntityStoreTest, AttributeOperationsRewriteTheDocumentAndBumpTheVersion) {
  ASSERT_TRUE(entities_
                  ->Create("", Doc(R"({"id": "urn:ngsi-ld:Vehicle:v1", "type": "Vehicle",
      "speed": [{"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Property:speedometer"},
                {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Property:gps"}]})"))
                  .ok());
  clock_.Advance(1000);
  auto appended = entities_->Append("", "urn:ngsi-ld:Vehicle:v1",
                                    Fragment(R"({"name": {"type": "Property", "value": "car"}})"), false);
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->updated, std::vector<std::string>{Ts("name")});
  auto skipped = entities_->Append("", "urn:ngsi-ld:Vehicle:v1",
                                   Fragment(R"({"name": {"type": "Property", "value": "other"}})"), true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->not_updated.size(), 1u);
  auto updated = entities_->Update(
      "", "urn:ngsi-ld:Vehicle:v1",
      Fragment(R"({"name": {"type": "Property", "value": "bus"}, "almostFull": {"type": "Property", "value": true}})"));
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->updated, std::vector<std::string>{Ts("name")});
  EXPECT_EQ(updated->not_updated.size(), 1u);
  ASSERT_TRUE(entities_
                  ->UpdateAttribute("", "urn:ngsi-ld:Vehicle:v1", Ts("speed"),
                                    json{{"value", 60}, {"datasetId", "urn:ngsi-ld:Property:gps"}})
                  .ok());
  ASSERT_TRUE(entities_
                  ->DeleteAttribute("", "urn:ngsi-ld:Vehicle:v1", Ts("speed"),
                                    std::string("urn:ngsi-ld:Property:speedometer"), false)
                  .ok());
  auto got = entities_->Retrieve("", "urn:ngsi-ld:Vehicle:v1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->doc[Ts("name")]["value"], "bus");
  EXPECT_EQ(got->doc[Ts("speed")]["value"], 60);  // one instance left: an object
  EXPECT_EQ(got->doc[Ts("speed")]["createdAt"], "2026-11-18T11:06:40.000Z");
  EXPECT_EQ(got->doc[Ts("speed")]["modifiedAt"], "2026-11-18T11:06:41.000Z");
  EXPECT_EQ(got->version, 5);  // create, append, update, partial, delete (the noOverwrite append changed nothing)
  EXPECT_STREQ(
      entities_
          ->Append("", "urn:ngsi-ld:Vehicle:none", Fragment(R"({"name": {"type": "Property", "value": 1}})"), false)
          .status()
          .problem_type(),
      kResourceNotFound);
  EXPECT_STREQ(
      entities_->DeleteAttribute("", "urn:ngsi-ld:Vehicle:v1", Ts("nothing"), std::nullopt, false).problem_type(),
      kResourceNotFound);
}

TEST_P(EntityStoreTest, BatchesReportPerEntityAndRunInOneTransaction) {
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:existing", "E", 1, 1, 1)).ok());
  std::vector<BatchItem> items;
  items.push_back({"urn:ngsi-ld:Building:n1", Building("urn:ngsi-ld:Building:n1", "N1", 1, 1, 1), Status::Ok()});
  items.push_back(
      {"urn:ngsi-ld:Building:existing", Building("urn:ngsi-ld:Building:existing", "E", 1, 1, 1), Status::Ok()});
  items.push_back({"bad", json(), BadRequestData("the entity id must be a URI", "id")});
  items.push_back({"urn:ngsi-ld:Building:n1", Building("urn:ngsi-ld:Building:n1", "dup", 1, 1, 1), Status::Ok()});
  auto created = entities_->BatchCreate("", items);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->success, std::vector<std::string>{"urn:ngsi-ld:Building:n1"});
  ASSERT_EQ(created->errors.size(), 3u);
  EXPECT_STREQ(created->errors[0].error.problem_type(), kAlreadyExists);
  EXPECT_STREQ(created->errors[1].error.problem_type(), kBadRequestData);
  EXPECT_STREQ(created->errors[2].error.problem_type(), kAlreadyExists);

  // Upsert: one replaced, one created; then the update mode merges.
  std::vector<BatchItem> up;
  up.push_back({"urn:ngsi-ld:Building:n1", Doc(R"({"id": "urn:ngsi-ld:Building:n1", "type": "Building",
                "almostFull": {"type": "Property", "value": true}})"),
                Status::Ok()});
  up.push_back({"urn:ngsi-ld:Building:n2", Building("urn:ngsi-ld:Building:n2", "N2", 2, 2, 2), Status::Ok()});
  auto upserted = entities_->BatchUpsert("", up, UpsertMode::kReplace);
  ASSERT_TRUE(upserted.ok());
  EXPECT_EQ(upserted->success.size(), 2u);
  EXPECT_EQ(upserted->created, std::vector<std::string>{"urn:ngsi-ld:Building:n2"});
  EXPECT_FALSE(entities_->Retrieve("", "urn:ngsi-ld:Building:n1")->doc.contains(Ts("name")));
  std::vector<BatchItem> merge;
  merge.push_back({"urn:ngsi-ld:Building:n1", Building("urn:ngsi-ld:Building:n1", "merged", 7, 1, 1), Status::Ok()});
  ASSERT_TRUE(entities_->BatchUpsert("", merge, UpsertMode::kUpdate).ok());
  auto n1 = entities_->Retrieve("", "urn:ngsi-ld:Building:n1");
  EXPECT_EQ(n1->doc[Ts("almostFull")]["value"], true);
  EXPECT_EQ(n1->doc[Ts("name")]["value"], "merged");

  // Update: only existing entities; noOverwrite keeps values.
  std::vector<BatchItem> upd;
  upd.push_back(
      {"urn:ngsi-ld:Building:n2", Fragment(R"({"name": {"type": "Property", "value": "kept?"}})"), Status::Ok()});
  upd.push_back(
      {"urn:ngsi-ld:Building:ghost", Fragment(R"({"name": {"type": "Property", "value": "x"}})"), Status::Ok()});
  auto updated = entities_->BatchUpdate("", upd, true);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->success, std::vector<std::string>{"urn:ngsi-ld:Building:n2"});
  ASSERT_EQ(updated->errors.size(), 1u);
  EXPECT_STREQ(updated->errors[0].error.problem_type(), kResourceNotFound);
  EXPECT_EQ(entities_->Retrieve("", "urn:ngsi-ld:Building:n2")->doc[Ts("name")]["value"], "N2");

  auto deleted =
      entities_->BatchDelete("", {"urn:ngsi-ld:Building:n1", "urn:ngsi-ld:Building:ghost", "urn:ngsi-ld:Building:n1"});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->success, std::vector<std::string>{"urn:ngsi-ld:Building:n1"});
  EXPECT_EQ(deleted->errors.size(), 2u);

  // A listener failure rolls the whole batch back.
  recorder_.fail = true;
  std::vector<BatchItem> doomed;
  doomed.push_back({"urn:ngsi-ld:Building:d1", Building("urn:ngsi-ld:Building:d1", "D", 1, 1, 1), Status::Ok()});
  doomed.push_back({"urn:ngsi-ld:Building:d2", Building("urn:ngsi-ld:Building:d2", "D", 1, 1, 1), Status::Ok()});
  EXPECT_FALSE(entities_->BatchCreate("", doomed).ok());
  recorder_.fail = false;
  EXPECT_STREQ(entities_->Retrieve("", "urn:ngsi-ld:Building:d1").status().problem_type(), kResourceNotFound);
}

// A batch that fails after an entity's document was changed in memory (here a listener refuses it)
// is rolled back; the next write of that entity must start from the stored document, not from the
// changed or emptied copy the failed batch held.
TEST_P(EntityStoreTest, AFailedBatchLeavesNoChangedCopyBehind) {
  const std::string id = "urn:ngsi-ld:Building:rolledback";
  ASSERT_TRUE(entities_->Create("", Building(id, "kept", 1, 105.8, 21.0)).ok());
  auto fragment = [&](const std::string& attribute, int v) {
    return Doc(R"({"id": ")" + id + R"(", "type": "Building", ")" + attribute + R"(": {"type": "Property", "value": )" +
               std::to_string(v) + "}}");
  };
  for (UpsertMode mode : {UpsertMode::kUpdate, UpsertMode::kReplace}) {
    recorder_.fail = true;
    std::vector<BatchItem> doomed;
    doomed.push_back({id, fragment("airQualityLevel", 99), Status::Ok()});
    EXPECT_FALSE(entities_->BatchUpsert("", doomed, mode).ok());
    std::vector<BatchItem> doomed_update;
    doomed_update.push_back({id, Fragment(R"({"airQualityLevel": {"type": "Property", "value": 98}})"), Status::Ok()});
    EXPECT_FALSE(entities_->BatchUpdate("", doomed_update, false).ok());
    recorder_.fail = false;
    std::vector<BatchItem> next;
    next.push_back({id, fragment("speed", 5), Status::Ok()});
    auto r = entities_->BatchUpsert("", next, UpsertMode::kUpdate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto e = entities_->Retrieve("", id);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->doc[Ts("name")]["value"], "kept");
    EXPECT_EQ(e->doc[Ts("airQualityLevel")]["value"], 1);
    EXPECT_EQ(e->doc[Ts("speed")]["value"], 5);
    EXPECT_TRUE(e->doc.contains(kLocationIri));
  }
}

// On SQLite a batch update's entities are merged and rendered before the write, off the single writer
// (EntityStore::Prefetch), when this process has not cached them. What is stored and reported must be
// what the writer's own merge gives: the same entity updated through a store that merges on the
// writer (its cache holds it) and one that merges before (a second store, as another process would be).
TEST_P(EntityStoreTest, ABatchUpdateMergedBeforeTheWriteStoresWhatTheWriterWould) {
  const std::string a = "urn:ngsi-ld:Building:merged-before", b = "urn:ngsi-ld:Building:merged-on-writer";
  ASSERT_TRUE(entities_->Create("", Building(a, "A", 1, 105.80, 21.00)).ok());
  ASSERT_TRUE(entities_->Create("", Building(b, "A", 1, 105.80, 21.00)).ok());
  clock_.Advance(1000);
  auto update = [&](const std::string& id, const std::string& attributes) {
    return BatchItem{id, Doc(R"({"id": ")" + id + R"(", "type": "Building", )" + attributes + "}"), Status::Ok()};
  };
  const std::string change =
      R"("airQualityLevel": {"type": "Property", "value": 7}, "speed": {"type": "Property", "value": 3})";
  const bool sqlite = GetParam() == "sqlite";
  // A first batch through entities_, two items for each entity: the second merges into the first's
  // result, so the writer merges both, and entities_ keeps both documents in its cache.
  const std::string name = R"("name": {"type": "Property", "value": "A"})";
  std::vector<BatchItem> first{update(a, name), update(a, name), update(b, name), update(b, name)};
  ASSERT_TRUE(entities_->BatchUpsert("", first, UpsertMode::kUpdate).ok());
  EXPECT_EQ(entities_->merged_before_write(), 0);
  clock_.Advance(1000);
  // a through a cold doc cache, as another process's: merged before the write on SQLite, on the stored
  // text (only the members the update names are parsed).
  EntityStore other(db_.get(), &clock_);
  other.AddListener(&recorder_);
  std::vector<BatchItem> before_write{update(a, change)};
  ASSERT_TRUE(other.BatchUpsert("", before_write, UpsertMode::kUpdate).ok());
  // b on the writer (two items again).
  std::vector<BatchItem> on_writer{update(b, change), update(b, change)};
  ASSERT_TRUE(entities_->BatchUpsert("", on_writer, UpsertMode::kUpdate).ok());
  EXPECT_EQ(other.merged_before_write(), sqlite ? 1 : 0);
  EXPECT_EQ(entities_->merged_before_write(), 0);

  auto stored = [&](const std::string& id) {
    auto e = entities_->Retrieve("", id);
    EXPECT_TRUE(e.ok());
    json doc = e.ok() ? e->doc : json();
    doc.erase("id");
    return doc;
  };
  json merged = stored(a);
  EXPECT_EQ(merged, stored(b));
  EXPECT_EQ(merged[Ts("airQualityLevel")]["value"], 7);
  EXPECT_EQ(merged[Ts("speed")]["value"], 3);
  EXPECT_EQ(merged[Ts("name")]["value"], "A");
  EXPECT_NE(merged[Ts("airQualityLevel")]["createdAt"], merged[Ts("airQualityLevel")]["modifiedAt"]);
  // Reported alike to the listeners (the last report of each).
  auto last_report = [&](const std::string& id) {
    for (auto it = recorder_.seen.rbegin(); it != recorder_.seen.rend(); ++it) {
      if (it->id == id) return *it;
    }
    ADD_FAILURE() << "no report of " << id;
    return Recorder::Seen{};
  };
  Recorder::Seen seen_a = last_report(a), seen_b = last_report(b);
  EXPECT_EQ(seen_a.kind, "updated");
  EXPECT_EQ(seen_a.changed, seen_b.changed);
  EXPECT_EQ(seen_a.changed, (std::vector<std::string>{Ts("airQualityLevel"), Ts("speed")}));
  seen_a.entity.erase("id");
  seen_b.entity.erase("id");
  EXPECT_EQ(seen_a.entity, seen_b.entity);

  // From the cache, without a read: entities_ wrote b last. Its cached copy of a is stale (other wrote a
  // since): that merge is made, found stale by the write, and the writer merges the stored a instead.
  clock_.Advance(1000);
  std::vector<BatchItem> cached{update(b, R"("speed": {"type": "Property", "value": 4})"),
                                update(a, R"("speed": {"type": "Property", "value": 4})")};
  ASSERT_TRUE(entities_->BatchUpsert("", cached, UpsertMode::kUpdate).ok());
  EXPECT_EQ(entities_->merged_before_write(), sqlite ? 1 : 0);
  EXPECT_EQ(stored(a), stored(b));
  EXPECT_EQ(stored(a)[Ts("airQualityLevel")]["value"], 7);
  EXPECT_EQ(stored(a)[Ts("speed")]["value"], 4);

  // A moved location rewrites the geo columns: a geo query finds the entity at its new place only.
  EntityStore third(db_.get(), &clock_);
  std::vector<BatchItem> moved{
      update(a, R"("location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.70, 10.77]}})")};
  ASSERT_TRUE(third.BatchUpsert("", moved, UpsertMode::kUpdate).ok());
  EXPECT_EQ(third.merged_before_write(), sqlite ? 1 : 0);
  auto near = [&](const std::string& coords) {
    EntityQuery q;
    q.geo = *ParseGeoQuery("near;maxDistance==1000", "Point", coords);
    auto r = Query(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? Ids(*r) : std::vector<std::string>{};
  };
  EXPECT_EQ(near("[106.70,10.77]"), std::vector<std::string>{a});
  EXPECT_EQ(near("[105.80,21.00]"), std::vector<std::string>{b});

  // Two items for one entity in a batch: the second merges into the first, on the writer.
  EntityStore fourth(db_.get(), &clock_);
  std::vector<BatchItem> twice{update(a, R"("airQualityLevel": {"type": "Property", "value": 8})"),
                               update(a, R"("speed": {"type": "Property", "value": 9})")};
  ASSERT_TRUE(fourth.BatchUpsert("", twice, UpsertMode::kUpdate).ok());
  EXPECT_EQ(fourth.merged_before_write(), 0);
  merged = stored(a);
  EXPECT_EQ(merged[Ts("airQualityLevel")]["value"], 8);
  EXPECT_EQ(merged[Ts("speed")]["value"], 9);

  // A batch whose merge was prepared and which then failed is rolled back, and its merge never
  // resurfaces (neither through the doc cache nor through a later batch).
  EntityStore fifth(db_.get(), &clock_);
  fifth.AddListener(&recorder_);
  recorder_.fail = true;
  std::vector<BatchItem> doomed{update(a, R"("airQualityLevel": {"type": "Property", "value": 5})")};
  EXPECT_FALSE(fifth.BatchUpsert("", doomed, UpsertMode::kUpdate).ok());
  recorder_.fail = false;
  std::vector<BatchItem> after{update(a, R"("name": {"type": "Property", "value": "B"})")};
  ASSERT_TRUE(fifth.BatchUpsert("", after, UpsertMode::kUpdate).ok());
  merged = stored(a);
  EXPECT_EQ(merged[Ts("airQualityLevel")]["value"], 8);
  EXPECT_EQ(merged[Ts("name")]["value"], "B");
}

// Appending a fragment that only adds a type or sets the scope changes the entity (ETSI GS CIM 009
// clause 5.6.3 merges the fragment's types; scope is an entity member): the change is stored and
// reported, through the store's single-entity append and the batch update alike. (Over HTTP a single
// append must name an attribute; a batch update element need not.)
TEST_P(EntityStoreTest, AppendingOnlyATypeOrAScopeIsStored) {
  const std::string id = "urn:ngsi-ld:Building:members";
  ASSERT_TRUE(entities_->Create("", Building(id, "B", 1, 105.8, 21.0)).ok());
  const size_t seen_before = recorder_.seen.size();
  auto appended = entities_->Append("", id, Fragment(R"({"scope": "/Hanoi/BaDinh"})"), false);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  auto e = entities_->Retrieve("", id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->doc["scope"], "/Hanoi/BaDinh");
  EXPECT_EQ(e->version, 2);
  EXPECT_EQ(recorder_.seen.size(), seen_before + 1);

  std::vector<BatchItem> upd;
  upd.push_back({id, Fragment(R"({"type": "Vehicle"})"), Status::Ok()});
  auto updated = entities_->BatchUpdate("", upd, false);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->success, std::vector<std::string>{id});
  e = entities_->Retrieve("", id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->doc["type"], json::array({Ts("Building"), Ts("Vehicle")}));
  EXPECT_EQ(e->version, 3);
  EntityQuery vehicles;
  vehicles.types = *TypeSelection::Parse("Vehicle", *ctx_);
  auto found = entities_->QueryEntities("", vehicles);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(Ids(*found), std::vector<std::string>{id});

  // The same fragment again changes nothing: no write, no version.
  ASSERT_TRUE(entities_->BatchUpdate("", upd, false).ok());
  EXPECT_EQ(entities_->Retrieve("", id)->version, 3);
}

TEST_P(EntityStoreTest, TheListenerSeesEveryChangeInTheWriteTransaction) {
  ASSERT_TRUE(entities_->Create("t1", Building("urn:ngsi-ld:Building:b1", "B", 1, 1, 1)).ok());
  ASSERT_TRUE(entities_
                  ->Append("t1", "urn:ngsi-ld:Building:b1",
                           Fragment(R"({"almostFull": {"type": "Property", "value": true}})"), false)
                  .ok());
  ASSERT_TRUE(entities_->Delete("t1", "urn:ngsi-ld:Building:b1").ok());
  ASSERT_EQ(recorder_.seen.size(), 3u);
  EXPECT_EQ(recorder_.seen[0].kind, "created");
  EXPECT_EQ(recorder_.seen[0].tenant, "t1");
  EXPECT_EQ(recorder_.seen[0].types, std::vector<std::string>{Ts("Building")});
  EXPECT_EQ(recorder_.seen[0].changed.size(), 3u);
  EXPECT_EQ(recorder_.seen[0].at, 1795000000000);
  EXPECT_EQ(recorder_.seen[1].kind, "updated");
  EXPECT_EQ(recorder_.seen[1].changed, std::vector<std::string>{Ts("almostFull")});
  EXPECT_EQ(recorder_.seen[1].entity[Ts("almostFull")]["value"], true);
  EXPECT_EQ(recorder_.seen[2].kind, "deleted");
  EXPECT_EQ(recorder_.seen[2].entity["id"], "urn:ngsi-ld:Building:b1");
  EXPECT_EQ(LogCount(), 3);
  // A refusing listener rolls the write back: no entity, no log row.
  recorder_.fail = true;
  EXPECT_EQ(entities_->Create("t1", Building("urn:ngsi-ld:Building:b2", "B", 1, 1, 1)).code(), StatusCode::kConflict);
  recorder_.fail = false;
  EXPECT_STREQ(entities_->Retrieve("t1", "urn:ngsi-ld:Building:b2").status().problem_type(), kResourceNotFound);
  EXPECT_EQ(LogCount(), 3);
}

TEST_P(EntityStoreTest, QueriesByIdTypeIdPatternQAndAttrs) {
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:a", "Eiffel Tower", 4, 1, 1)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:b", "Pisa Tower", 6, 1, 1)).ok());
  ASSERT_TRUE(entities_
                  ->Create("", Doc(R"({"id": "urn:ngsi-ld:Building:c", "type": ["Building", "TouristDestination"],
      "name": {"type": "Property", "value": "Big Ben"}, "almostFull": {"type": "Property", "value": false},
      "locatedIn": {"type": "Relationship", "object": "urn:ngsi-ld:City:London"}})"))
                  .ok());
  ASSERT_TRUE(entities_
                  ->Create("", Doc(R"({"id": "urn:ngsi-ld:Vehicle:v", "type": "Vehicle",
      "speed": {"type": "Property", "value": 80}})"))
                  .ok());

  EntityQuery by_ids;
  by_ids.ids = {"urn:ngsi-ld:Building:c", "urn:ngsi-ld:Building:a", "urn:ngsi-ld:Building:zzz"};
  EXPECT_EQ(Ids(*Query(by_ids)), (std::vector<std::string>{"urn:ngsi-ld:Building:a", "urn:ngsi-ld:Building:c"}));

  EntityQuery by_type;
  by_type.types = *TypeSelection::Parse("Building", *ctx_);
  by_type.count = true;
  auto buildings = Query(by_type);
  ASSERT_TRUE(buildings.ok()) << buildings.status().ToString();
  EXPECT_EQ(*buildings->total, 3);
  EntityQuery two_types;
  two_types.types = *TypeSelection::Parse("Vehicle,TouristDestination", *ctx_);
  EXPECT_EQ(Ids(*Query(two_types)), (std::vector<std::string>{"urn:ngsi-ld:Building:c", "urn:ngsi-ld:Vehicle:v"}));
  EntityQuery both;
  both.types = *TypeSelection::Parse("Building;TouristDestination", *ctx_);
  EXPECT_EQ(Ids(*Query(both)), std::vector<std::string>{"urn:ngsi-ld:Building:c"});

  EntityQuery pattern;
  pattern.id_pattern = *IdPattern::Compile("^urn:ngsi-ld:Building:[ab]$");
  EXPECT_EQ(Ids(*Query(pattern)), (std::vector<std::string>{"urn:ngsi-ld:Building:a", "urn:ngsi-ld:Building:b"}));

  auto q = [&](const std::string& text) {
    EntityQuery eq;
    eq.q = *ngsild::Query::Parse(text);
    eq.count = true;
    auto r = Query(eq);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r->total : -1;
  };
  EXPECT_EQ(q(R"(name=="Eiffel Tower")"), 1);
  EXPECT_EQ(q(R"(airQualityLevel>=4;airQualityLevel<7)"), 2);
  EXPECT_EQ(q(R"(name=="Pisa Tower"|almostFull==false)"), 2);
  EXPECT_EQ(q(R"(locatedIn==urn:ngsi-ld:City:London)"), 1);
  EXPECT_EQ(q(R"(speed>100)"), 0);
  EXPECT_EQ(q(R"(name~=(?i)tower)"), 2);

  EntityQuery attrs;
  attrs.attrs = std::set<std::string>{Ts("speed"), Ts("almostFull")};
  EXPECT_EQ(Ids(*Query(attrs)), (std::vector<std::string>{"urn:ngsi-ld:Building:c", "urn:ngsi-ld:Vehicle:v"}));

  EntityQuery bad;
  bad.ids = {"urn:a:1"};
  bad.limit = 1001;
  EXPECT_STREQ(Query(bad).status().problem_type(), kBadRequestData);
}

TEST_P(EntityStoreTest, GeoQueriesUseTheBoundingBoxAndCheckExactly) {
  // Around Hoàn Kiếm lake: three points, a wide polygon (the city), one far away and one without location.
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:lake", "lake", 1, 105.8523, 21.0287)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:500m", "500m", 1, 105.8571, 21.0287)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:5km", "5km", 1, 105.9004, 21.0287)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:hcm", "hcm", 1, 106.70, 10.77)).ok());
  ASSERT_TRUE(entities_
                  ->Create("", Doc(R"({"id": "urn:ngsi-ld:Building:city", "type": "Building",
      "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates":
        [[[105.285, 20.564], [106.02, 20.564], [106.02, 21.386], [105.285, 21.386], [105.285, 20.564]]]}}})"))
                  .ok());
  ASSERT_TRUE(entities_->Create("", Doc(R"({"id": "urn:ngsi-ld:Building:nowhere", "type": "Building"})")).ok());
  auto geo = [&](const std::string& georel, const std::string& geometry, const std::string& coords) {
    EntityQuery q;
    q.geo = *ParseGeoQuery(georel, geometry, coords);
    q.types = *TypeSelection::Parse("Building", *ctx_);
    auto r = Query(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<std::string>();
  };
  EXPECT_EQ(geo("near;maxDistance==1000", "Point", "[105.8523,21.0287]"),
            (std::vector<std::string>{"urn:ngsi-ld:Building:500m", "urn:ngsi-ld:Building:city",
                                      "urn:ngsi-ld:Building:lake"}));
  EXPECT_EQ(geo("near;minDistance==1000", "Point", "[105.8523,21.0287]"),
            (std::vector<std::string>{"urn:ngsi-ld:Building:5km", "urn:ngsi-ld:Building:hcm"}));
  EXPECT_EQ(geo("within", "Polygon", "[[[105.84,21.02],[105.86,21.02],[105.86,21.04],[105.84,21.04],[105.84,21.02]]]"),
            (std::vector<std::string>{"urn:ngsi-ld:Building:500m", "urn:ngsi-ld:Building:lake"}));
  EXPECT_EQ(geo("contains", "Point", "[105.8523,21.0287]"),
            (std::vector<std::string>{"urn:ngsi-ld:Building:city", "urn:ngsi-ld:Building:lake"}));
  EXPECT_EQ(geo("equals", "Point", "[105.8523,21.0287]"), std::vector<std::string>{"urn:ngsi-ld:Building:lake"});
  EXPECT_EQ(
      geo("disjoint", "Point", "[105.8523,21.0287]"),
      (std::vector<std::string>{"urn:ngsi-ld:Building:500m", "urn:ngsi-ld:Building:5km", "urn:ngsi-ld:Building:hcm"}));
  EXPECT_EQ(geo("intersects", "Point", "[106.70,10.77]"), std::vector<std::string>{"urn:ngsi-ld:Building:hcm"});
  // The bounding box follows updates of the location.
  ASSERT_TRUE(entities_
                  ->UpdateAttribute("", "urn:ngsi-ld:Building:hcm", std::string(kLocationIri),
                                    json{{"value", {{"type", "Point"}, {"coordinates", {105.8530, 21.0290}}}}})
                  .ok());
  EXPECT_EQ(
      geo("near;maxDistance==200", "Point", "[105.8523,21.0287]"),
      (std::vector<std::string>{"urn:ngsi-ld:Building:city", "urn:ngsi-ld:Building:hcm", "urn:ngsi-ld:Building:lake"}));
  // A batch that only reports measurements leaves the geo columns as they are; one that brings a new
  // location (upsert in update mode, or batch update) moves them; removing the location removes it.
  std::vector<BatchItem> readings;
  readings.push_back(
      {"urn:ngsi-ld:Building:hcm", Fragment(R"({"airQualityLevel": {"type": "Property", "value": 9}})"), Status::Ok()});
  ASSERT_TRUE(entities_->BatchUpsert("", readings, UpsertMode::kUpdate).ok());
  std::vector<BatchItem> moved;
  moved.push_back({"urn:ngsi-ld:Building:5km", Fragment(R"({"location": {"type": "GeoProperty",
      "value": {"type": "Point", "coordinates": [105.8525, 21.0288]}}})"),
                   Status::Ok()});
  ASSERT_TRUE(entities_->BatchUpsert("", moved, UpsertMode::kUpdate).ok());
  std::vector<BatchItem> away;
  away.push_back({"urn:ngsi-ld:Building:lake", Fragment(R"({"location": {"type": "GeoProperty",
      "value": {"type": "Point", "coordinates": [106.70, 10.77]}}})"),
                  Status::Ok()});
  ASSERT_TRUE(entities_->BatchUpdate("", away, false).ok());
  EXPECT_EQ(
      geo("near;maxDistance==200", "Point", "[105.8523,21.0287]"),
      (std::vector<std::string>{"urn:ngsi-ld:Building:5km", "urn:ngsi-ld:Building:city", "urn:ngsi-ld:Building:hcm"}));
  EXPECT_EQ(entities_->Retrieve("", "urn:ngsi-ld:Building:hcm")->doc[Ts("airQualityLevel")]["value"], 9);
  ASSERT_TRUE(
      entities_->DeleteAttribute("", "urn:ngsi-ld:Building:hcm", std::string(kLocationIri), std::nullopt, false).ok());
  EXPECT_EQ(geo("near;maxDistance==200", "Point", "[105.8523,21.0287]"),
            (std::vector<std::string>{"urn:ngsi-ld:Building:5km", "urn:ngsi-ld:Building:city"}));
  EXPECT_EQ(geo("intersects", "Point", "[106.70,10.77]"), std::vector<std::string>{"urn:ngsi-ld:Building:lake"});
}

TEST_P(EntityStoreTest, PagesAndCountsAcrossScanChunks) {
  std::vector<BatchItem> items;
  for (int i = 0; i < 1200; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "urn:ngsi-ld:Building:%04d", i);
    items.push_back({id, Building(id, "n", i % 10, 105.8 + i * 1e-4, 21.0), Status::Ok()});
  }
  auto created = entities_->BatchCreate("", std::move(items));
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->success.size(), 1200u);
  // SQL-only: limit/offset/count in the database.
  EntityQuery page;
  page.types = *TypeSelection::Parse("Building", *ctx_);
  page.limit = 5;
  page.offset = 1000;
  page.count = true;
  auto r = Query(page);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->total, 1200);
  EXPECT_EQ(Ids(*r).front(), "urn:ngsi-ld:Building:1000");
  // In memory (q): the same paging over chunks of 500.
  EntityQuery q;
  q.q = *ngsild::Query::Parse("airQualityLevel==3");
  q.limit = 3;
  q.offset = 100;
  q.count = true;
  auto filtered = Query(q);
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(*filtered->total, 120);
  EXPECT_EQ(Ids(*filtered), (std::vector<std::string>{"urn:ngsi-ld:Building:1003", "urn:ngsi-ld:Building:1013",
                                                      "urn:ngsi-ld:Building:1023"}));
  q.count = false;
  EXPECT_EQ(Ids(*Query(q)).size(), 3u);
  EntityQuery zero;
  zero.types = page.types;
  zero.limit = 0;
  zero.count = true;
  auto counted = Query(zero);
  EXPECT_TRUE(counted->entities.empty());
  EXPECT_EQ(*counted->total, 1200);
}

TEST_P(EntityStoreTest, ChangedSinceFollowsModificationsInOrderFromACursor) {
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:c2", "B", 1, 105.8, 21.0)).ok());
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:c1", "A", 1, 105.8, 21.0)).ok());  // same ms
  clock_.Advance(10);
  ASSERT_TRUE(entities_->Create("", Building("urn:ngsi-ld:Building:c3", "C", 1, 105.8, 21.0)).ok());
  ASSERT_TRUE(entities_->Create("other", Building("urn:ngsi-ld:Building:c9", "X", 1, 105.8, 21.0)).ok());
  const int64_t t0 = clock_.NowMillis() - 10;
  auto ids = [](const std::vector<StoredEntity>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(e.doc["id"]);
    return out;
  };
  auto all = entities_->ChangedSince("", 0, "", 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"urn:ngsi-ld:Building:c1", "urn:ngsi-ld:Building:c2",
                                                 "urn:ngsi-ld:Building:c3"}));
  EXPECT_EQ((*all)[0].modified_at_ms, t0);
  // The cursor is (modified_at, id): resuming after c1 at t0 gives c2 (same ms) and c3.
  auto after_c1 = entities_->ChangedSince("", t0, "urn:ngsi-ld:Building:c1", 100);
  ASSERT_TRUE(after_c1.ok());
  EXPECT_EQ(ids(*after_c1), (std::vector<std::string>{"urn:ngsi-ld:Building:c2", "urn:ngsi-ld:Building:c3"}));
  auto one = entities_->ChangedSince("", 0, "", 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(ids(*one), (std::vector<std::string>{"urn:ngsi-ld:Building:c1"}));
  // An update moves the entity to the end, once, with its new state.
  clock_.Advance(10);
  ASSERT_TRUE(entities_->Update("", "urn:ngsi-ld:Building:c1",
                                Fragment(R"({"airQualityLevel": {"type": "Property", "value": 7}})")).ok());
  auto since = entities_->ChangedSince("", t0 + 10, "urn:ngsi-ld:Building:c3", 100);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(ids(*since), (std::vector<std::string>{"urn:ngsi-ld:Building:c1"}));
  EXPECT_EQ((*since)[0].doc[Ts("airQualityLevel")]["value"], 7);
  EXPECT_EQ((*since)[0].version, 2);
  EXPECT_EQ((*since)[0].modified_at_ms, t0 + 20);
  auto other = entities_->ChangedSince("other", 0, "", 100);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(ids(*other), (std::vector<std::string>{"urn:ngsi-ld:Building:c9"}));
  EXPECT_EQ(entities_->ChangedSince("", 0, "", 0).status().field(), "limit");
}

TEST_P(EntityStoreTest, TheChangeLogKeepsEachEntitysLastWriteOncePruned) {
  auto log_rows = [&] { return CountRows("ngsild_changes"); };
  auto changes = [&] {
    std::vector<std::string> out;
    auto v = entities_->ChangedSince("", 0, "", 100);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return out;
    for (const auto& e : *v) {
      out.push_back(std::string(e.doc["id"]) + (e.deleted ? " deleted" : " v" + std::to_string(e.version)) + " @" +
                    std::to_string(e.modified_at_ms));
    }
    return out;
  };
  const int64_t t0 = clock_.NowMillis();
  for (const char* id : {"urn:ngsi-ld:Building:p1", "urn:ngsi-ld:Building:p2", "urn:ngsi-ld:Building:p3"}) {
    ASSERT_TRUE(entities_->Create("", Building(id, "P", 1, 105.8, 21.0)).ok());
  }
  for (int i = 1; i <= 3; ++i) {  // p1 written three more times, the last by a batch update
    clock_.Advance(10);
    auto level = Fragment(R"({"airQualityLevel": {"type": "Property", "value": )" + std::to_string(i) + "}}");
    if (i < 3) {
      ASSERT_TRUE(entities_->Update("", "urn:ngsi-ld:Building:p1", level).ok());
    } else {
      std::vector<BatchItem> batch{{"urn:ngsi-ld:Building:p1", level, Status::Ok()}};
      auto done = entities_->BatchUpdate("", batch, false);
      ASSERT_TRUE(done.ok());
      ASSERT_EQ(done->success.size(), 1u);
    }
  }
  clock_.Advance(10);
  ASSERT_TRUE(entities_->Delete("", "urn:ngsi-ld:Building:p2").ok());
  ASSERT_TRUE(entities_->Create("other", Building("urn:ngsi-ld:Building:p9", "X", 1, 105.8, 21.0)).ok());
  const std::vector<std::string> expected{"urn:ngsi-ld:Building:p3 v1 @" + std::to_string(t0),
                                          "urn:ngsi-ld:Building:p1 v4 @" + std::to_string(t0 + 30),
                                          "urn:ngsi-ld:Building:p2 deleted @" + std::to_string(t0 + 40)};
  EXPECT_EQ(changes(), expected);
  EXPECT_EQ(log_rows(), 7);  // 4 creates and 3 updates

  // One row looked at per call: the pass goes on where the last call stopped, and ends.
  int64_t pruned = 0;
  for (int i = 0; i < 10; ++i) {
    auto n = entities_->PruneChanges(1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    pruned += *n;
  }
  EXPECT_EQ(pruned, 4);  // p1's three older rows and p2's
  EXPECT_EQ(log_rows(), 3);
  EXPECT_EQ(changes(), expected);
  EXPECT_EQ(*entities_->PruneChanges(1000), 0);

  // Written again: the next pass finds the new dead row; the other tenant's rows are its own.
  clock_.Advance(10);
  ASSERT_TRUE(
      entities_->Update("", "urn:ngsi-ld:Building:p3", Fragment(R"({"name": {"type": "Property", "value": "Q"}})"))
          .ok());
  EXPECT_EQ(*entities_->PruneChanges(1000), 1);
  EXPECT_EQ(log_rows(), 3);
  EXPECT_EQ(changes().back(), "urn:ngsi-ld:Building:p3 v2 @" + std::to_string(t0 + 50));
  auto other = entities_->ChangedSince("other", 0, "", 100);
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, EntityStoreTest, ::testing::ValuesIn(testing::BackendNames()));

}  // namespace
}  // namespace tl::ngsild
