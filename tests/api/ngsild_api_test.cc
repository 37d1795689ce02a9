// The NGSI-LD API through the real server (all modules wired) on both backends.
//
// Cases named ETSI_<number> port the ETSI NGSI-LD API conformance suite (ETSI GS CIM 014): the same
// payloads (tests/api/ngsild-etsi/, copied from the suite's data, BSD-3-Clause, (c) ETSI, see the
// LICENSE there) sent the same way, with the same expected status, problem type and body. The suite
// refers to its own @context by URL; this broker never fetches contexts, so the ports give the
// suite's terms inline (application/ld+json) or send the payload without a context (application/json,
// the core context) where the case reads the data back by short names (q, types, attrId in a path),
// and use the platform's Smart Data Models context where the case needs a Link header.
// Each test runs in its own tenant (NGSILD-Tenant) of one server per backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

constexpr const char* kTs = "https://ngsi-ld-test-suite/context#";
constexpr const char* kDefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr const char* kCoreUrl = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld";
constexpr const char* kSdmPath = "/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld";
constexpr const char* kInvalidRequest = "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest";
constexpr const char* kBadRequestData = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
constexpr const char* kAlreadyExists = "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists";
constexpr const char* kResourceNotFound = "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
constexpr const char* kLdContextNotAvailable = "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable";
constexpr const char* kNonexistentTenant = "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant";

// The ETSI suite's terms, given inline in place of its context URL.
const json& SuiteContext() {
  static const json ctx = [] {
    json terms = {{"ts", kTs}};
    for (const char* t : {"Building",
                          "Vehicle",
                          "OffStreetParking",
                          "Parking",
                          "TouristDestination",
                          "name",
                          "subCategory",
                          "airQualityLevel",
                          "almostFull",
                          "brandName",
                          "isParked",
                          "isParked2",
                          "providedBy",
                          "speed",
                          "source",
                          "locatedAt",
                          "locatedIn",
                          "hasWeatherObserved",
                          "attribute_to_be_added",
                          "customLocation"}) {
      terms[t] = std::string("ts:") + t;
    }
    return json::array({terms, kCoreUrl});
  }();
  return ctx;
}

// One server per backend, shared by the tests (each in its own tenant), stopped after the last test.
struct Shared {
  std::unique_ptr<TestApp> app;
  std::string operator_token;
};
std::map<std::string, std::unique_ptr<Shared>>& Servers() {
  static std::map<std::string, std::unique_ptr<Shared>> servers;
  return servers;
}
class ServersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Servers().clear(); }
};
const ::testing::Environment* const kServers =
    ::testing::AddGlobalTestEnvironment(std::make_unique<ServersEnvironment>().release());

// Arrays in any order (attribute instances, query results) compare equal.
json Canon(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items()) out[k] = Canon(x);
    return out;
  }
  if (v.is_array()) {
    std::vector<std::pair<std::string, json>> items;
    for (const auto& x : v) {
      json c = Canon(x);
      items.emplace_back(c.dump(), c);
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    json out = json::array();
    for (auto& [k, c] : items) out.push_back(std::move(c));
    return out;
  }
  return v;
}

// Compacts the suite's IRIs back to its terms on the test side (the server answered with the core
// context, under which they stay IRIs), and drops system members.
json Strip(const json& v) {
  auto name = [](const std::string& k) {
    if (k.rfind(kTs, 0) == 0) return k.substr(std::string(kTs).size());
    return k;
  };
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items()) {
      if (k == "@context" || k == "createdAt" || k == "modifiedAt") continue;
      if (k == "type" && x.is_string()) {
        out[k] = name(x.get<std::string>());
      } else if (k == "type" && x.is_array()) {
        json t = json::array();
        for (const auto& s : x) t.push_back(name(s.get<std::string>()));
        out[k] = t;
      } else {
        out[name(k)] = Strip(x);
      }
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) out.push_back(Strip(x));
    return out;
  }
  return v;
}

class NgsiLdApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto& slot = Servers()[GetParam()];
    if (!slot) {
      slot = std::make_unique<Shared>();
      slot->app = std::make_unique<TestApp>(GetParam());
      slot->operator_token = slot->app->Login("operator");
    }
    shared_ = slot.get();
    static int counter = 0;
    tenant_ = "t" + std::to_string(++counter);
  }
  TestApp& app() { return *shared_->app; }

  using Headers = std::vector<std::pair<std::string, std::string>>;
  HttpResult Call(const std::string& method, const std::string& target, const std::string& body, Headers headers,
                  const std::string& token = "\x01") {
    std::string t = token == "\x01" ? shared_->operator_token : token;
    if (!t.empty()) headers.emplace_back("Authorization", "Bearer " + t);
    if (!tenant_.empty()) headers.emplace_back("NGSILD-Tenant", tenant_);
    return HttpRequest(app().port(), method, target, body, headers);
  }
  HttpResult Ld(const std::string& method, const std::string& target, const json& body) {
    return Call(method, target, body.dump(), {{"Content-Type", "application/ld+json"}});
  }
  HttpResult Json(const std::string& method, const std::string& target, const json& body,
                  const std::string& link = "") {
    Headers h = {{"Content-Type", "application/json"}};
    if (!link.empty()) h.emplace_back("Link", Link(link));
    return Call(method, target, body.dump(), h);
  }
  HttpResult Get(const std::string& target, const std::string& link = "", const std::string& accept = "") {
    Headers h;
    if (!link.empty()) h.emplace_back("Link", Link(link));
    if (!accept.empty()) h.emplace_back("Accept", accept);
    return Call("GET", target, "", h);
  }
  static std::string Link(const std::string& url) {
    return "<" + url + ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
  }
  std::string SdmUrl() { return "http://127.0.0.1:" + std::to_string(app().port()) + kSdmPath; }

  // A sample of the suite: its id replaced; its @context replaced by the suite's terms inline, or
  // removed (`with_context` false: the core context applies).
  static std::string ReadSample(const std::string& path) {
    std::ifstream in(DataRoot() + "/../tests/api/ngsild-etsi/" + path);
    EXPECT_TRUE(in.good()) << path;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static json Sample(const std::string& path, const std::string& id = "", bool with_context = true) {
    json j = json::parse(ReadSample(path));
    if (!id.empty()) j["id"] = id;
    if (j.contains("@context")) {
      if (with_context) {
        j["@context"] = SuiteContext();
      } else {
        j.erase("@context");
      }
    }
    return j;
  }
  static json Expected(const std::string& path, const std::string& id) {
    json j = json::parse(ReadSample(path));
    j.erase("@context");
    j["id"] = id;
    return Canon(j);
  }
  std::string Id(const std::string& type, int n) {
    return "urn:ngsi-ld:" + type + ":" + tenant_ + "-" + std::to_string(n);
  }
  json Body(const HttpResult& r) { return testing::Json(r); }
  void ExpectProblem(const HttpResult& r, int status, const char* type) {
    EXPECT_EQ(r.status, status) << r.body;
    json b = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(b.is_object()) << r.body;
    EXPECT_EQ(b["type"], type) << r.body;
    EXPECT_TRUE(b.contains("title"));
  }
  // Creates from a sample (ld+json with the suite's terms, or application/json without a context).
  void Create(const std::string& path, const std::string& id, bool ld = true) {
    auto r = ld ? Ld("POST", "/ngsi-ld/v1/entities", Sample(path, id))
                : Json("POST", "/ngsi-ld/v1/entities", Sample(path, id, false));
    ASSERT_EQ(r.status, 201) << path << ": " << r.body;
  }
  int64_t Count(const std::string& query) {
    auto r = Get("/ngsi-ld/v1/entities?" + query + "&count=true");
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::string n = r.Header("ngsild-results-count");
    return n.empty() ? -1 : std::stoll(n);
  }
  std::vector<std::string> IdsOf(const HttpResult& r) {
    std::vector<std::string> out;
    for (const auto& e : Body(r)) out.push_back(e["id"]);
    std::sort(out.begin(), out.end());
    return out;
  }

  Shared* shared_ = nullptr;
  std::string tenant_;
};

std::string Enc(std::string s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_.~:,").find(c) != std::string_view::npos) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Create entity (ETSI 001)

TEST_P(NgsiLdApiTest, ETSI_001_01_01_MinimalEntity) {
  std::string id = Id("Building", 1);
  auto r = Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", id));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.Header("location"), "/ngsi-ld/v1/entities/" + id);
  auto got = Get("/ngsi-ld/v1/entities/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Body(got), Expected("building-minimal.json", id));
  EXPECT_EQ(got.Header("link"), Link(kCoreUrl));
  EXPECT_EQ(got.Header("content-type"), "application/json");
}

TEST_P(NgsiLdApiTest, ETSI_001_01_02_to_05_EntitiesWithPropertiesRelationshipsAndGeoProperties) {
  int n = 0;
  for (const char* file : {"building-simple-attributes.jsonld", "building-relationship-of-property.jsonld",
                           "building-location-attribute.jsonld", "building-non-core-geoproperty-attribute.jsonld"}) {
    std::string id = Id("Building", ++n);
    Create(file, id);
    auto got = Get("/ngsi-ld/v1/entities/" + id);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(Canon(Strip(Body(got))), Expected(file, id)) << file;
  }
}

TEST_P(NgsiLdApiTest, ETSI_001_02_InvalidRequests) {
  auto invalid_json = Call("POST", "/ngsi-ld/v1/entities", ReadSample("invalid-json.jsonld"),
                           {{"Content-Type", "application/ld+json"}});
  ExpectProblem(invalid_json, 400, kInvalidRequest);  // 001_02_01
  ExpectProblem(
      Call("POST", "/ngsi-ld/v1/entities", ReadSample("empty.jsonld"), {{"Content-Type", "application/ld+json"}}), 400,
      kInvalidRequest);  // 001_02_02
  ExpectProblem(Call("POST", "/ngsi-ld/v1/entities", ReadSample("building-minimal.json"),
                     {{"Content-Type", "application/ld+json"}}),
                400, kBadRequestData);  // 001_02_03: ld+json without @context
  json invalid_type = json::parse(ReadSample("invalid-type.jsonld"));
  invalid_type["id"] = Id("Building", 1);
  ExpectProblem(Ld("POST", "/ngsi-ld/v1/entities", invalid_type), 400, kBadRequestData);  // 001_02_04
}

TEST_P(NgsiLdApiTest, ETSI_001_03_01_CreateAnEntityWithAnExistingId) {
  std::string id = Id("Building", 1);
  Create("building-minimal.jsonld", id);
  ExpectProblem(Ld("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.jsonld", id)), 409, kAlreadyExists);
}

// The suite's 001_04 uses its own context by Link; the port uses the platform's Smart Data Models one.
TEST_P(NgsiLdApiTest, ETSI_001_04_LinkHeaderContextWithJsonContentType) {
  std::string id = "urn:ngsi-ld:AirQualityObserved:" + tenant_;
  json aq = {{"id", id},
             {"type", "AirQualityObserved"},
             {"pm25", {{"type", "Property"}, {"value", 162.4}, {"unitCode", "GQ"}}},
             {"dateObserved", {{"type", "Property"}, {"value", "2019-01-15T08:00:00Z"}}}};
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", aq, SdmUrl()).status, 201);
  // 001_04_01: read with the same context, the terms come back.
  auto with = Get("/ngsi-ld/v1/entities/" + id, SdmUrl());
  ASSERT_EQ(with.status, 200) << with.body;
  EXPECT_EQ(Body(with)["type"], "AirQualityObserved");
  EXPECT_EQ(Body(with)["pm25"]["value"], 162.4);
  EXPECT_EQ(with.Header("link"), Link(SdmUrl()));
  // 001_04_02: read without it, the names stay IRIs.
  auto without = Get("/ngsi-ld/v1/entities/" + id);
  EXPECT_EQ(Body(without)["type"], "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
  EXPECT_TRUE(Body(without).contains("https://smartdatamodels.org/dataModel.Environment/pm25"));
}

TEST_P(NgsiLdApiTest, ETSI_001_05_DefaultContextWithJsonContentType) {
  std::string id = Id("Building", 1);
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-simple-attributes.json", id)).status, 201);
  auto plain = Get("/ngsi-ld/v1/entities/" + id);  // 001_05_01
  EXPECT_TRUE(Body(plain).contains("almostFull"));
  // 001_05_02: under a context whose term "name" means something else, the default-context name
  // keeps the ngsi-ld: prefix (the suite checks this with its own term almostFull).
  auto other = Get("/ngsi-ld/v1/entities/" + id, SdmUrl());
  EXPECT_TRUE(Body(other).contains("ngsi-ld:default-context/name")) << other.body;
  EXPECT_TRUE(Body(other).contains("almostFull")) << other.body;
}

TEST_P(NgsiLdApiTest, ETSI_001_06_01_JsonContentTypeWithAnAtContextInTheBody) {
  ExpectProblem(Json("POST", "/ngsi-ld/v1/entities", Sample("building-simple-attributes.jsonld", Id("Building", 1))),
                400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_001_07_02_LdContextFromThePayloadReadWithoutIt) {
  std::string id = Id("Building", 1);
  Create("building-simple-attributes.jsonld", id);
  auto got = Get("/ngsi-ld/v1/entities/" + id);
  EXPECT_EQ(Canon(Body(got)), Expected("expectations/building-simple-attributes-expanded.json", id));
}

// ---------------------------------------------------------------------------------------------------
// Delete and replace entity (ETSI 002, 054)

TEST_P(NgsiLdApiTest, ETSI_002_01_01_DeleteAnEntity) {
  std::string id = Id("Building", 1);
  Create("building-simple-attributes.jsonld", id);
  auto del = Call("DELETE", "/ngsi-ld/v1/entities/" + id, "", {});
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  ExpectProblem(Get("/ngsi-ld/v1/entities/" + id), 404, kResourceNotFound);
}

TEST_P(NgsiLdApiTest, ETSI_002_02_01_DeleteAnEntityWhoseIdIsNotAUri) {
  ExpectProblem(Call("DELETE", "/ngsi-ld/v1/entities/thisisaninvaliduri", "", {}), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_002_03_01_DeleteAnUnknownEntity) {
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", Id("Building", 9))).status, 201);
  ExpectProblem(Call("DELETE", "/ngsi-ld/v1/entities/" + Id("Building", 1), "", {}), 404, kResourceNotFound);
}

TEST_P(NgsiLdApiTest, ETSI_054_01_01_ReplaceAnEntityKeepsCreatedAt) {
  std::string id = Id("Building", 1);
  Create("building-simple-attributes.jsonld", id);
  std::string created = Body(Get("/ngsi-ld/v1/entities/" + id + "?options=sysAttrs"))["createdAt"];
  app().clock().Advance(5000);
  json replacement = Sample("building-locatedAt-and-name.json", id);
  replacement["@context"] = SuiteContext();
  auto put = Ld("PUT", "/ngsi-ld/v1/entities/" + id, replacement);
  ASSERT_EQ(put.status, 204) << put.body;
  auto got = Body(Get("/ngsi-ld/v1/entities/" + id + "?options=sysAttrs"));
  EXPECT_EQ(got["createdAt"], created);
  EXPECT_NE(got["modifiedAt"], created);
  EXPECT_EQ(Canon(Strip(got)), Expected("expectations/building-locatedAt-and-name-normalized.jsonld", id));
}

TEST_P(NgsiLdApiTest, ETSI_054_02_ReplaceWithAFaultyId) {
  std::string id = Id("Building", 1);
  Create("building-simple-attributes.jsonld", id);
  json replacement = Sample("building-locatedAt-and-name.json");
  replacement["@context"] = SuiteContext();
  replacement.erase("id");
  ExpectProblem(Ld("PUT", "/ngsi-ld/v1/entities/invalidUri", replacement), 400, kBadRequestData);  // 054_02_01
  ExpectProblem(Ld("PUT", "/ngsi-ld/v1/entities/urn:ngsi-ld:Building:Nonexistent", replacement), 404,
                kResourceNotFound);  // 054_02_03
}

// ---------------------------------------------------------------------------------------------------
// Attributes (ETSI 010, 011, 012, 013)

TEST_P(NgsiLdApiTest, ETSI_010_01_AppendEntityAttributes) {
  struct Case {
    const char* fragment;
    const char* expectation;
  } cases[] = {{"vehicle-new-attribute-fragment.jsonld", "vehicle-speed-appended.jsonld"},
               {"vehicle-speed-different-datasetid-fragment.jsonld", "vehicle-speed-different-datasetid.jsonld"}};
  int n = 0;
  for (const auto& c : cases) {
    std::string id = Id("Vehicle", ++n);
    Create("vehicle-speed-two-datasetid.jsonld", id);
    auto r = Ld("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", Sample(std::string("fragmentEntities/") + c.fragment));
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(Canon(Strip(Body(Get("/ngsi-ld/v1/entities/" + id)))),
              Expected(std::string("expectations/") + c.expectation, id))
        << c.fragment;
  }
}

// A batch update whose element brings only a new type and a scope changes the entity: stored, as an
// element with attributes would be. (A single append must name an attribute: 400 otherwise.)
TEST_P(NgsiLdApiTest, BatchUpdateWithOnlyATypeAndAScopeIsStored) {
  std::string id = Id("Vehicle", 31);
  Create("vehicle-speed-two-datasetid.jsonld", id);
  json element = {{"id", id}, {"type", "Building"}, {"scope", "/Hanoi/BaDinh"}};
  auto r = Json("POST", "/ngsi-ld/v1/entityOperations/update", json::array({element}));
  EXPECT_EQ(r.status, 204) << r.body;
  json stored = Body(Get("/ngsi-ld/v1/entities/" + id));
  EXPECT_EQ(stored["scope"], "/Hanoi/BaDinh") << stored.dump();
  ASSERT_TRUE(stored["type"].is_array()) << stored.dump();  // the Vehicle it had, and Building
  EXPECT_EQ(stored["type"].size(), 2u) << stored.dump();
  EXPECT_EQ(stored["type"].back(), "Building") << stored.dump();
  ExpectProblem(Json("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", json{{"scope", "/Hanoi"}}), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_010_02_AppendToAnEntityWithAnInvalidId) {
  auto fragment = Sample("fragmentEntities/vehicle-attribute-to-add-fragment.jsonld");
  ExpectProblem(Ld("POST", "/ngsi-ld/v1/entities/thisisaninvaliduri/attrs", fragment), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_011_01_UpdateExistingAttributes) {
  struct Case {
    const char* fragment;
    const char* expectation;
  } cases[] = {{"vehicle-speed-two-datasetid-01-fragment.jsonld", "vehicle-update-attributes.jsonld"},
               {"vehicle-speed-two-datasetid-02-fragment.jsonld", "vehicle-update-datasetid-attributes.jsonld"}};
  int n = 0;
  for (const auto& c : cases) {
    std::string id = Id("Vehicle", ++n);
    Create("vehicle-two-datasetid-attributes.jsonld", id);
    auto r =
        Ld("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", Sample(std::string("fragmentEntities/") + c.fragment));
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_EQ(Canon(Strip(Body(Get("/ngsi-ld/v1/entities/" + id)))),
              Expected(std::string("expectations/") + c.expectation, id))
        << c.fragment;
  }
}

TEST_P(NgsiLdApiTest, ETSI_011_03_01_UpdateAttributesOfAnUnknownEntity) {
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", Id("Building", 9))).status, 201);
  ExpectProblem(Ld("PATCH", "/ngsi-ld/v1/entities/" + Id("Vehicle", 1) + "/attrs",
                   Sample("fragmentEntities/vehicle-speed-two-datasetid-01-fragment.jsonld")),
                404, kResourceNotFound);
}

TEST_P(NgsiLdApiTest, ETSI_012_01_PartialAttributeUpdate) {
  struct Case {
    const char* fragment;
    const char* attr;
    const char* expectation;
  } cases[] = {{"vehicle-isparked-fragment.jsonld", "isParked", "vehicle-isparked-update.jsonld"},
               {"vehicle-speed-equal-datasetid-fragment.jsonld", "speed", "vehicle-update-speed.jsonld"}};
  int n = 0;
  for (const auto& c : cases) {
    std::string id = Id("Vehicle", ++n);
    Create("vehicle-speed-two-datasetid.jsonld", id);
    auto r = Ld("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs/" + c.attr,
                Sample(std::string("fragmentEntities/") + c.fragment));
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_EQ(Canon(Strip(Body(Get("/ngsi-ld/v1/entities/" + id)))),
              Expected(std::string("expectations/") + c.expectation, id))
        << c.fragment;
  }
}

// The suite names the attribute by its term under its own context; here the entity is made in the
// core context, where "speed" is the name.
TEST_P(NgsiLdApiTest, ETSI_013_01_DeleteAnAttributeInstance) {
  struct Case {
    const char* query;
    const char* expectation;
  } cases[] = {{"", "vehicle-delete-default-speed.jsonld"},
               {"?datasetId=urn:ngsi-ld:Dataset:gps", "vehicle-delete-datasetid-speed.jsonld"},
               {"?deleteAll=true", "vehicle-delete-deleteall-speed.jsonld"}};
  int n = 0;
  for (const auto& c : cases) {
    std::string id = Id("Vehicle", ++n);
    Create("vehicle-speed-only-multi-instances.jsonld", id, false);
    auto r = Call("DELETE", "/ngsi-ld/v1/entities/" + id + "/attrs/speed" + c.query, "", {});
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_EQ(Canon(Strip(Body(Get("/ngsi-ld/v1/entities/" + id)))),
              Expected(std::string("expectations/") + c.expectation, id))
        << c.query;
  }
  ExpectProblem(Call("DELETE", "/ngsi-ld/v1/entities/" + Id("Vehicle", 1) + "/attrs/speed", "", {}), 404,
                kResourceNotFound);
}

// ---------------------------------------------------------------------------------------------------
// Batch operations (ETSI 003, 004, 005, 006)

TEST_P(NgsiLdApiTest, ETSI_003_01_CreateABatchOfEntities) {
  int n = 0;
  for (const char* file : {"building-minimal.jsonld", "building-simple-attributes.jsonld",
                           "building-relationship.jsonld", "building-relationship-of-property.jsonld"}) {
    std::string a = Id("Building", ++n), b = Id("Building", ++n);
    auto r = Ld("POST", "/ngsi-ld/v1/entityOperations/create", json::array({Sample(file, a), Sample(file, b)}));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Body(r), json::array({a, b}));
    auto q = Get("/ngsi-ld/v1/entities?id=" + a + "," + b + "&type=" + Enc(std::string(kTs) + "Building"));
    ASSERT_EQ(q.status, 200) << q.body;
    json expected = json::array({Expected(file, a), Expected(file, b)});
    EXPECT_EQ(Canon(Strip(Body(q))), Canon(expected)) << file;
  }
}

TEST_P(NgsiLdApiTest, ETSI_003_02_01_BatchCreateWithOneExistingEntity) {
  std::string existing = Id("Building", 0), a = Id("Building", 1), b = Id("Building", 2);
  Create("building-minimal.jsonld", existing);
  auto r = Ld("POST", "/ngsi-ld/v1/entityOperations/create",
              json::array({Sample("building-minimal.jsonld", a), Sample("building-minimal.jsonld", b),
                           Sample("building-minimal.jsonld", existing)}));
  ASSERT_EQ(r.status, 207) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["success"], json::array({a, b}));
  ASSERT_EQ(body["errors"].size(), 1u);
  EXPECT_EQ(body["errors"][0]["entityId"], existing);
  EXPECT_EQ(body["errors"][0]["error"]["type"], kAlreadyExists);
  EXPECT_EQ(body["errors"][0]["error"]["status"], 409);
}

TEST_P(NgsiLdApiTest, ETSI_004_01_01_UpsertNewEntitiesCreatesThem) {
  std::string a = Id("Building", 1), b = Id("Building", 2);
  auto r =
      Ld("POST", "/ngsi-ld/v1/entityOperations/upsert",
         json::array({Sample("building-simple-attributes.jsonld", a), Sample("building-simple-attributes.jsonld", b)}));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r), json::array({a, b}));
  auto q = Get("/ngsi-ld/v1/entities?id=" + a + "," + b + "&type=" + Enc(std::string(kTs) + "Building"));
  EXPECT_EQ(Body(q).size(), 2u);
}

TEST_P(NgsiLdApiTest, ETSI_004_03_UpsertExistingEntitiesReplacesThem) {
  int n = 0;
  for (const char* file :
       {"building-simple-attributes.jsonld", "building-relationship.jsonld", "building-with-two-types.jsonld"}) {
    std::string a = Id("Building", ++n), b = Id("Building", ++n);
    Create("building-minimal.jsonld", a);
    Create("building-minimal.jsonld", b);
    auto r = Ld("POST", "/ngsi-ld/v1/entityOperations/upsert", json::array({Sample(file, a), Sample(file, b)}));
    ASSERT_EQ(r.status, 204) << r.body;
    auto q = Get("/ngsi-ld/v1/entities?id=" + a + "," + b);
    EXPECT_EQ(Canon(Strip(Body(q))), Canon(json::array({Expected(file, a), Expected(file, b)}))) << file;
  }
}

TEST_P(NgsiLdApiTest, ETSI_005_01_UpdateABatchOfEntities) {
  std::string a = Id("Building", 1), b = Id("Building", 2);
  Create("building-simple-attributes.jsonld", a);
  Create("building-simple-attributes.jsonld", b);
  json fragment = Sample("fragmentEntities/locatedAt-fragment.json");
  json update = json::array();
  for (const auto& id : {a, b}) {
    json e = fragment;
    e["id"] = id;
    e["type"] = "Building";
    e["@context"] = SuiteContext();
    update.push_back(e);
  }
  auto r = Ld("POST", "/ngsi-ld/v1/entityOperations/update", update);
  ASSERT_EQ(r.status, 204) << r.body;
  json expected = Expected("building-simple-attributes.jsonld", a);
  expected["locatedAt"] = fragment["locatedAt"];
  EXPECT_EQ(Canon(Strip(Body(Get("/ngsi-ld/v1/entities/" + a)))), Canon(expected));
  // An entity that does not exist is reported, the others updated.
  update[1]["id"] = Id("Building", 3);
  auto partial = Ld("POST", "/ngsi-ld/v1/entityOperations/update", update);
  ASSERT_EQ(partial.status, 207) << partial.body;
  EXPECT_EQ(Body(partial)["errors"][0]["error"]["type"], kResourceNotFound);
}

TEST_P(NgsiLdApiTest, ETSI_006_DeleteABatchOfEntities) {
  std::string a = Id("Building", 1), b = Id("Building", 2), ghost = Id("Building", 3);
  Create("building-simple-attributes.jsonld", a);
  Create("building-simple-attributes.jsonld", b);
  auto all = Json("POST", "/ngsi-ld/v1/entityOperations/delete", json::array({a}));  // 006_01_01
  EXPECT_EQ(all.status, 204) << all.body;
  auto some = Json("POST", "/ngsi-ld/v1/entityOperations/delete", json::array({b, ghost}));  // 006_02_01
  ASSERT_EQ(some.status, 207) << some.body;
  EXPECT_EQ(Body(some)["success"], json::array({b}));
  EXPECT_EQ(Body(some)["errors"][0]["entityId"], ghost);
  EXPECT_EQ(Body(Get("/ngsi-ld/v1/entities?id=" + a + "," + b)).size(), 0u);
  // 006_03: ids that are not URIs are reported per entry.
  auto bad = Json("POST", "/ngsi-ld/v1/entityOperations/delete", json::array({"not a uri"}));
  ASSERT_EQ(bad.status, 207);
  EXPECT_EQ(Body(bad)["errors"][0]["error"]["type"], kBadRequestData);
  ExpectProblem(Json("POST", "/ngsi-ld/v1/entityOperations/delete", json::array()), 400, kBadRequestData);
  ExpectProblem(Json("POST", "/ngsi-ld/v1/entityOperations/delete", json::object()), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, BatchWithANullItemReportsIt) {
  json batch = json::parse(ReadSample("batch/null-item.jsonld"));
  batch[0]["id"] = Id("Building", 1);
  batch[0]["@context"] = SuiteContext();
  auto r = Ld("POST", "/ngsi-ld/v1/entityOperations/create", batch);
  ASSERT_EQ(r.status, 207) << r.body;
  EXPECT_EQ(Body(r)["success"], json::array({Id("Building", 1)}));
  EXPECT_EQ(Body(r)["errors"][0]["error"]["type"], kBadRequestData);
}

// ---------------------------------------------------------------------------------------------------
// Retrieve and query (ETSI 018, 019)

TEST_P(NgsiLdApiTest, ETSI_018_01_01_GetAnEntityByIdAsJsonLd) {
  std::string id = Id("Building", 1);
  Create("building-simple-attributes.jsonld", id);
  auto r = Get("/ngsi-ld/v1/entities/" + id, "", "application/ld+json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/ld+json");
  EXPECT_TRUE(r.Header("link").empty());
  json body = Body(r);
  EXPECT_EQ(body["@context"], kCoreUrl);
  EXPECT_EQ(Canon(Strip(body)), Expected("building-simple-attributes.jsonld", id));
  EXPECT_EQ(r.body.rfind("{\"@context\":", 0), 0u);  // @context, id and type lead
}

TEST_P(NgsiLdApiTest, ETSI_019_01_01_QueryEntitiesByIds) {
  std::string a = Id("Building", 1), b = Id("Building", 2), c = Id("Building", 3);
  for (const auto& id : {a, b, c}) Create("building-minimal.jsonld", id);
  auto r = Get("/ngsi-ld/v1/entities?id=" + a + "," + b + "&type=" + Enc(std::string(kTs) + "Building"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IdsOf(r), (std::vector<std::string>{a, b}));
  EXPECT_EQ(Body(r)[0]["type"], std::string(kTs) + "Building");
}

TEST_P(NgsiLdApiTest, ETSI_019_03_01_QueryEntitiesByIncorrectIds) {
  ExpectProblem(Get("/ngsi-ld/v1/entities?id=thisisaninvaliduri1,thisisaninvaliduri2&type=Building"), 400,
                kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_019_04_01_QueryEntitiesInTheSimplifiedRepresentation) {
  std::string a = Id("Building", 1), b = Id("Building", 2);
  Create("building-simple-attributes.jsonld", a);
  Create("building-simple-attributes.jsonld", b);
  auto r = Get("/ngsi-ld/v1/entities?id=" + a + "," + b + "&type=" + Enc(std::string(kTs) + "Building") +
               "&options=keyValues");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Canon(Body(r)),
            Canon(json::array({Expected("expectations/building-simple-attributes-simplified.json", a),
                               Expected("expectations/building-simple-attributes-simplified.json", b)})));
}

TEST_P(NgsiLdApiTest, ETSI_019_06_01_QueryWithALimit) {
  std::string a = Id("Building", 1), b = Id("Building", 2), c = Id("Building", 3);
  for (const auto& id : {a, b, c}) Create("building-minimal.jsonld", id);
  auto r = Get("/ngsi-ld/v1/entities?id=" + a + "," + b + "," + c + "&type=" + Enc(std::string(kTs) + "Building") +
               "&limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r).size(), 2u);
  auto page2 = Get("/ngsi-ld/v1/entities?type=" + Enc(std::string(kTs) + "Building") + "&limit=2&offset=2");
  EXPECT_EQ(IdsOf(page2), std::vector<std::string>{c});
}

TEST_P(NgsiLdApiTest, ETSI_019_07_CountTheMatchingEntities) {
  Create("building-simple-attributes.jsonld", Id("Building", 1), false);
  Create("building-simple-attributes-second.jsonld", Id("Building", 2), false);
  EXPECT_EQ(Count("type=Building"), 2);                       // 019_07_01
  EXPECT_EQ(Count("type=Building&q=airQualityLevel==6"), 1);  // 019_07_02
}

TEST_P(NgsiLdApiTest, ETSI_019_08_EntityTypeSelectionLanguage) {
  std::string first = Id("MultiTypes", 1), second = Id("MultiTypes", 2), third = Id("MultiTypes", 3);
  Create("building-simple-attributes.jsonld", first, false);
  Create("building-with-different-type.jsonld", second, false);
  Create("building-with-two-types.jsonld", third, false);
  auto ids = [&](const std::string& types) { return IdsOf(Get("/ngsi-ld/v1/entities?type=" + Enc(types))); };
  EXPECT_EQ(ids("Building"), (std::vector<std::string>{first, third}));                      // 019_08_01
  EXPECT_EQ(ids("(Building;TouristDestination)"), std::vector<std::string>{third});          // 019_08_02
  EXPECT_EQ(ids("Building,Parking"), (std::vector<std::string>{first, second, third}));      // 019_08_03
  EXPECT_EQ(ids("Parking,TouristDestination"), (std::vector<std::string>{second, third}));   // 019_08_04
  EXPECT_EQ(ids("(Building;Parking),TouristDestination"), std::vector<std::string>{third});  // 019_08_05
}

TEST_P(NgsiLdApiTest, ETSI_019_09_QueryEntitiesWithQ) {
  Create("building-simple-attributes.jsonld", Id("Building", 1), false);
  Create("building-simple-attributes-second.jsonld", Id("Building", 2), false);
  Create("building-simple-attributes-third.jsonld", Id("Building", 3), false);
  EXPECT_EQ(Count("q=" + Enc(R"(name=="Eiffel Tower")")), 1);                                             // 019_09_01
  EXPECT_EQ(Count("q=" + Enc(R"(name=="Pisa Tower";almostFull==false)")), 1);                             // 019_09_02
  EXPECT_EQ(Count("q=" + Enc(R"(name=="Pisa Tower"|almostFull==false)")), 3);                             // 019_09_04
  EXPECT_EQ(Count("q=" + Enc(R"((name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false)")), 2);      // 019_09_05
  EXPECT_EQ(Count("q=" + Enc("airQualityLevel==4")), 1);                                                  // 019_09_06
  EXPECT_EQ(Count("q=" + Enc("airQualityLevel>=4;airQualityLevel<7")), 2);                                // 019_09_07
  EXPECT_EQ(Count("q=" + Enc("locatedIn==urn:ngsi-ld:City:Pisa")), 1);                                    // 019_09_08
  EXPECT_EQ(Count("q=" + Enc("locatedIn==urn:ngsi-ld:City:Paris")), 0);                                   // 019_09_09
  EXPECT_EQ(Count("q=" + Enc("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris")), 1);  // 019_09_10
  ExpectProblem(Get("/ngsi-ld/v1/entities?q=" + Enc("name==")), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, ETSI_019_10_GeoQueriesWithAPoint) {
  Create("building-location-attribute.jsonld", Id("Building", 1), false);
  Create("building-location-attribute-second.jsonld", Id("Building", 2), false);
  Create("building-location-attribute-third.jsonld", Id("Building", 3), false);
  auto geo = [&](const std::string& georel, const std::string& geometry, const std::string& coords) {
    return Count("type=Building&georel=" + Enc(georel) + "&geometry=" + geometry + "&coordinates=" + Enc(coords));
  };
  EXPECT_EQ(geo("equals", "Point", "[13.3986, 52.5547]"), 1);                       // 019_10_01
  EXPECT_EQ(geo("near;maxDistance==15000", "Point", "[13.388930, 52.534473]"), 2);  // 019_10_02
  EXPECT_EQ(geo("near;minDistance==15000", "Point", "[13.388930, 52.534473]"), 1);  // 019_10_03
  const std::string berlin =
      "[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],[13.142395,52.386428],[13.1616211,52."
      "5438124]]]";
  EXPECT_EQ(geo("within", "Polygon", berlin), 2);                  // 019_10_04
  EXPECT_EQ(geo("disjoint", "Polygon", berlin), 1);                // 019_10_05
  EXPECT_EQ(geo("disjoint", "Point", "[13.3986, 52.5547]"), 2);    // 019_10_06
  EXPECT_EQ(geo("contains", "Point", "[13.3986, 52.5547]"), 1);    // 019_10_07
  EXPECT_EQ(geo("intersects", "Point", "[13.3986, 52.5547]"), 1);  // 019_10_08
}

TEST_P(NgsiLdApiTest, ETSI_019_11_GeoQueriesWithAPolygon) {
  Create("building-location-polygon.jsonld", Id("Building", 1), false);
  Create("building-location-polygon-second.jsonld", Id("Building", 2), false);
  auto geo = [&](const std::string& georel, const std::string& geometry, const std::string& coords) {
    return Count("type=Building&georel=" + Enc(georel) + "&geometry=" + geometry + "&coordinates=" + Enc(coords));
  };
  EXPECT_EQ(geo("equals", "Polygon",
                "[[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],"
                "[13.5049438,52.5373084],[13.2865906,52.5648645]]]"),
            1);  // 019_11_01
  EXPECT_EQ(geo("intersects", "Polygon",
                "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],"
                "[13.3456421,52.4794848]]]"),
            1);  // 019_11_02
  EXPECT_EQ(geo("contains", "Polygon",
                "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],[13.4235764,52.5100027],"
                "[13.4331894,52.5273425],[13.3844376,52.5356966]]]"),
            1);  // 019_11_03
  const std::string elsewhere =
      "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],"
      "[13.1369019,52.5198225]]]";
  EXPECT_EQ(geo("contains", "Polygon", elsewhere), 0);  // 019_11_04
  EXPECT_EQ(geo("disjoint", "Polygon", elsewhere), 2);  // 019_11_05
  EXPECT_EQ(geo("within", "Polygon",
                "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],[13.3343124,52.4185447],"
                "[13.4311295,52.47107],[13.3023834,52.4903066]]]"),
            1);  // 019_11_06
  EXPECT_EQ(geo("overlaps", "Polygon",
                "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],"
                "[13.3456421,52.4794848]]]"),
            1);                                                       // 019_11_07
  EXPECT_EQ(geo("contains", "Point", "[13.3442688,52.4650045]"), 1);  // 019_11_08
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building&georel=within&geometry=Polygon&coordinates=" + Enc("[[1,2]]")),
                400, kBadRequestData);
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building&georel=near&geometry=Point"), 400, kBadRequestData);
}

// ---------------------------------------------------------------------------------------------------
// The platform's own cases: the Smart Data Models context, access, tenants, contexts, errors.

TEST_P(NgsiLdApiTest, AirQualityOfHanoiWithTheSmartDataModelsContext) {
  json batch = json::array();
  const double stations[][3] = {{105.8523, 21.0287, 162.4}, {105.8571, 21.0290, 48.0}, {105.7800, 21.0300, 201.5}};
  for (int i = 0; i < 3; ++i) {
    batch.push_back({{"id", "urn:ngsi-ld:AirQualityObserved:hn-" + std::to_string(i)},
                     {"type", "AirQualityObserved"},
                     {"pm25", {{"type", "Property"}, {"value", stations[i][2]}, {"unitCode", "GQ"}}},
                     {"location",
                      {{"type", "GeoProperty"},
                       {"value", {{"type", "Point"}, {"coordinates", {stations[i][0], stations[i][1]}}}}}}});
  }
  auto up = Json("POST", "/ngsi-ld/v1/entityOperations/upsert", batch, SdmUrl());
  ASSERT_EQ(up.status, 201) << up.body;
  auto high = Get("/ngsi-ld/v1/entities?type=AirQualityObserved&q=pm25%3E150&georel=" + Enc("near;maxDistance==2000") +
                      "&geometry=Point&coordinates=" + Enc("[105.8523,21.0287]") + "&options=keyValues",
                  SdmUrl());
  ASSERT_EQ(high.status, 200) << high.body;
  EXPECT_EQ(Body(high), json::parse(R"([{"id": "urn:ngsi-ld:AirQualityObserved:hn-0", "type": "AirQualityObserved",
      "pm25": 162.4, "location": {"type": "Point", "coordinates": [105.8523, 21.0287]}}])"));
  // Upserting existing entities answers 204; the types list shows the compacted type.
  EXPECT_EQ(Json("POST", "/ngsi-ld/v1/entityOperations/upsert", batch, SdmUrl()).status, 204);
  auto types = Get("/ngsi-ld/v1/types", SdmUrl());
  ASSERT_EQ(types.status, 200) << types.body;
  EXPECT_EQ(Body(types)["typeList"], json::array({"AirQualityObserved"}));
  EXPECT_EQ(Body(types)["type"], "EntityTypeList");
  // An attribute-level update answers 207 naming what it could not update.
  auto patch = Json(
      "PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:hn-0/attrs",
      json{{"pm25", {{"type", "Property"}, {"value", 90}}}, {"pm10", {{"type", "Property"}, {"value", 1}}}}, SdmUrl());
  ASSERT_EQ(patch.status, 207) << patch.body;
  EXPECT_EQ(Body(patch)["updated"], json::array({"pm25"}));
  EXPECT_EQ(Body(patch)["notUpdated"][0]["attributeName"], "pm10");
}

TEST_P(NgsiLdApiTest, EveryRouteNeedsAnOperatorAnIntegrationKeyOrACityAdmin) {
  std::string id = Id("Building", 1);
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", id)).status, 201);
  for (const std::string& target :
       std::vector<std::string>{"/ngsi-ld/v1/entities/" + id, "/ngsi-ld/v1/entities?type=Building", "/ngsi-ld/v1/types",
                                "/ngsi-ld/v1/jsonldContexts"}) {
    EXPECT_EQ(Call("GET", target, "", {}, "").status, 401) << target;
  }
  EXPECT_EQ(Call("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", Id("Building", 2)).dump(),
                 {{"Content-Type", "application/json"}}, "")
                .status,
            401);
  EXPECT_EQ(Call("GET", "/ngsi-ld/v1/entities/" + id, "", {}, app().Login("citizen")).status, 403);
  EXPECT_EQ(Call("GET", "/ngsi-ld/v1/entities/" + id, "", {}, app().Login("desk")).status, 403);
  EXPECT_EQ(Call("GET", "/ngsi-ld/v1/entities/" + id, "", {}, app().Login("admin")).status, 200);
  // API keys: ngsild.read reads only; ngsild.write writes; registry.read alone is refused.
  auto key = [&](std::vector<std::string> scopes) {
    auto made = app().app().identity().CreateApiKey(identity::Actor::Cli("test"), "sensor gateway", "VP01", scopes);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? made->second : std::string();
  };
  std::string reader = key({"ngsild.read"}), writer = key({"ngsild.write"}), registry = key({"registry.read"});
  EXPECT_EQ(Call("GET", "/ngsi-ld/v1/entities/" + id, "", {}, reader).status, 200);
  EXPECT_EQ(Call("DELETE", "/ngsi-ld/v1/entities/" + id, "", {}, reader).status, 403);
  EXPECT_EQ(Call("GET", "/ngsi-ld/v1/entities/" + id, "", {}, registry).status, 403);
  EXPECT_EQ(Call("DELETE", "/ngsi-ld/v1/entities/" + id, "", {}, writer).status, 204);
}

TEST_P(NgsiLdApiTest, TenantsAreSeparate) {
  std::string id = Id("Building", 1);
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", id)).status, 201);
  std::string mine = tenant_;
  tenant_ = mine + "-other";
  ExpectProblem(Get("/ngsi-ld/v1/entities/" + id), 404, kNonexistentTenant);
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building"), 404, kNonexistentTenant);
  ASSERT_EQ(Json("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.json", Id("Building", 2))).status, 201);
  ExpectProblem(Get("/ngsi-ld/v1/entities/" + id), 404, kResourceNotFound);
  tenant_ = "";  // the default tenant does not see them either
  EXPECT_EQ(Get("/ngsi-ld/v1/entities/" + id).status, 404);
  tenant_ = "bad tenant";
  EXPECT_EQ(Get("/ngsi-ld/v1/entities/" + id).status, 400);
  tenant_ = mine;
  EXPECT_EQ(Get("/ngsi-ld/v1/entities/" + id).status, 200);
}

TEST_P(NgsiLdApiTest, ContextsAreServedLocallyAndOthersAreRefused) {
  auto list = Get("/ngsi-ld/v1/jsonldContexts");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Body(list).size(), 2u);
  auto core = Get("/ngsi-ld/v1/jsonldContexts/ngsi-ld-core-context-v1.4.jsonld");
  ASSERT_EQ(core.status, 200);
  EXPECT_EQ(core.Header("content-type"), "application/ld+json");
  EXPECT_EQ(Body(core)["@context"]["value"], "ngsi-ld:hasValue");
  auto sdm = Get(kSdmPath);
  ASSERT_EQ(sdm.status, 200);
  EXPECT_EQ(Body(sdm)["@context"]["pm25"], "sdm-environment:pm25");
  EXPECT_EQ(Get("/ngsi-ld/v1/jsonldContexts/nope.jsonld").status, 404);
  // A Link to a context this broker does not hold: 503, and nothing is fetched.
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building", "https://example.org/ctx.jsonld"), 503,
                kLdContextNotAvailable);
  json inline_ref = Sample("building-minimal.jsonld", Id("Building", 1));
  inline_ref["@context"] =
      "https://raw.githubusercontent.com/marek-mraz/ngsi-ld-test-suite/main/resources/"
      "jsonld-contexts/ngsi-ld-test-suite-compound.jsonld";
  ExpectProblem(Ld("POST", "/ngsi-ld/v1/entities", inline_ref), 503, kLdContextNotAvailable);
  // ld+json with a Link header, other media types, over-deep bodies.
  auto both = Call("POST", "/ngsi-ld/v1/entities", Sample("building-minimal.jsonld", Id("Building", 2)).dump(),
                   {{"Content-Type", "application/ld+json"}, {"Link", Link(kCoreUrl)}});
  ExpectProblem(both, 400, kBadRequestData);
  EXPECT_EQ(Call("POST", "/ngsi-ld/v1/entities", "<x/>", {{"Content-Type", "application/xml"}}).status, 415);
  std::string deep = std::string(100, '[') + std::string(100, ']');
  ExpectProblem(Call("POST", "/ngsi-ld/v1/entities", deep, {{"Content-Type", "application/json"}}), 400,
                kInvalidRequest);
}

TEST_P(NgsiLdApiTest, BadInputIsA400NamingTheField) {
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property"}})", "name.value"},
      {R"({"id": "urn:a:1", "type": "Building", "location": {"type": "GeoProperty", "value": {"type": "Point"}}})",
       "location.value.coordinates"},
      {R"({"id": "urn:a/1", "type": "Building"})", "id"},
      {R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property", "value": "\u0000"}})", "name.value"},
      {R"({"id": "urn:a:1", "type": ["Building", 3]})", "type"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/ngsi-ld/v1/entities", c.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(Body(r)["field"], c.field) << c.body << " -> " << r.body;
    EXPECT_EQ(Body(r)["type"], kBadRequestData) << r.body;
  }
  ExpectProblem(Get("/ngsi-ld/v1/entities"), 400, kBadRequestData);  // no filter at all
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building&limit=5000"), 400, kBadRequestData);
  ExpectProblem(Get("/ngsi-ld/v1/entities?type=Building&options=concise"), 400, kBadRequestData);
  ExpectProblem(Get("/ngsi-ld/v1/entities?idPattern=" + Enc("(")), 400, kBadRequestData);
}

TEST_P(NgsiLdApiTest, TheOpenApiDocumentDescribesTheRoutes) {
  auto doc = app().Get("/api/openapi.json");
  ASSERT_EQ(doc.status, 200);
  json paths = testing::Json(doc)["paths"];
  for (const char* p :
       {"/ngsi-ld/v1/entities", "/ngsi-ld/v1/entities/{entityId}", "/ngsi-ld/v1/entities/{entityId}/attrs",
        "/ngsi-ld/v1/entities/{entityId}/attrs/{attrId}", "/ngsi-ld/v1/entityOperations/upsert", "/ngsi-ld/v1/types",
        "/ngsi-ld/v1/jsonldContexts/{contextId}"}) {
    EXPECT_TRUE(paths.contains(p)) << p;
  }
  EXPECT_EQ(paths["/ngsi-ld/v1/entities"]["get"]["tags"][0], "ngsi-ld");
  EXPECT_EQ(paths["/ngsi-ld/v1/entities"]["post"]["x-roles"], json::array({"operator", "integration", "city_admin"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, NgsiLdApiTest, ::testing::ValuesIn(BackendNames()));

}  // namespace
}  // namespace tl::testing
