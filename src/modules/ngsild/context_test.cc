// JSON-LD term handling: the core context, held contexts by URL and Link header, inline contexts,
// expansion and compaction, and the errors (NGSI-LD problem types through src/http/problem.cc).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/problem.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/errors.h"
#include "tests/support/scratch_store.h"

namespace tl::ngsild {
namespace {

using nlohmann::json;

constexpr const char* kNgsiLd = "https://uri.etsi.org/ngsi-ld/";
constexpr const char* kDefault = "https://uri.etsi.org/ngsi-ld/default-context/";
constexpr const char* kSdmUrl = "http://127.0.0.1:8080/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld";

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://127.0.0.1:8080/");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    reg_ = *loaded;
  }
  std::shared_ptr<const Context> Inline(const std::string& text) {
    auto ctx = reg_->FromValue(json::parse(text));
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? *ctx : reg_->Default();
  }
  std::shared_ptr<const ContextRegistry> reg_;
};

TEST_F(ContextTest, TheCoreContextExpandsItsTermsAndEverythingElseAgainstItsVocab) {
  const Context& core = *reg_->Default();
  EXPECT_EQ(core.url(), kCoreContextUrl);
  EXPECT_EQ(core.Expand("location"), std::string(kNgsiLd) + "location");
  EXPECT_EQ(core.Expand("observationSpace"), std::string(kNgsiLd) + "observationSpace");
  EXPECT_EQ(core.Expand("description"), "http://purl.org/dc/terms/description");
  EXPECT_EQ(core.Expand("almostFull"), std::string(kDefault) + "almostFull");
  EXPECT_EQ(core.Expand("type"), "@type");  // a keyword alias: callers refuse it as a name
  EXPECT_EQ(core.Expand("ngsi-ld:foo"), std::string(kNgsiLd) + "foo");
  EXPECT_EQ(core.Expand("urn:ngsi-ld:Thing"), "urn:ngsi-ld:Thing");
  EXPECT_EQ(core.Expand("https://example.org/speed"), "https://example.org/speed");
  EXPECT_GT(core.term_count(), 100u);
}

TEST_F(ContextTest, CompactionPrefersATermThenTheVocabThenACompactIriThenTheIri) {
  const Context& core = *reg_->Default();
  EXPECT_EQ(core.Compact(std::string(kNgsiLd) + "location"), "location");
  EXPECT_EQ(core.Compact(std::string(kDefault) + "almostFull"), "almostFull");
  EXPECT_EQ(core.Compact(std::string(kNgsiLd) + "somethingNew"), "ngsi-ld:somethingNew");
  EXPECT_EQ(core.Compact("https://purl.org/geojson/vocab#bbox"), "bbox");
  EXPECT_EQ(core.Compact("https://example.org/speed"), "https://example.org/speed");
  // Under a context whose own terms take the names, a default-context IRI keeps the ngsi-ld prefix (ETSI 001_05_02).
  auto other = Inline(
      R"({"@vocab": "https://ngsi-ld-test-suite/context#", "almostFull": "https://ngsi-ld-test-suite/context#almostFull"})");
  EXPECT_EQ(other->Compact(std::string(kDefault) + "almostFull"), "ngsi-ld:default-context/almostFull");
  EXPECT_EQ(other->Compact("https://ngsi-ld-test-suite/context#almostFull"), "almostFull");
}

TEST_F(ContextTest, InlineTermMapsAndIdObjectsRoundTrip) {
  auto ctx = Inline(R"({"ex": "https://example.org/ns#", "brandName": "ex:brandName",
                        "speed": {"@id": "https://example.org/ns#speed", "@type": "xsd:float"},
                        "Vehicle": {"@id": "ex:Vehicle"}, "isParked": {"@type": "@id"}, "A1": "urn:ngsi-ld:attributes:A1"})");
  EXPECT_EQ(ctx->Expand("brandName"), "https://example.org/ns#brandName");
  EXPECT_EQ(ctx->Expand("speed"), "https://example.org/ns#speed");
  EXPECT_EQ(ctx->Expand("Vehicle"), "https://example.org/ns#Vehicle");
  EXPECT_EQ(ctx->Expand("isParked"), std::string(kDefault) + "isParked");  // no @id: the vocab
  EXPECT_EQ(ctx->Expand("A1"), "urn:ngsi-ld:attributes:A1");
  EXPECT_EQ(ctx->Expand("ex:other"), "https://example.org/ns#other");
  for (std::string term : {"brandName", "speed", "Vehicle", "isParked", "A1", "ex:other", "location", "plain"}) {
    EXPECT_EQ(ctx->Compact(ctx->Expand(term)), term) << term;
  }
  EXPECT_TRUE(ctx->url().empty());
}

TEST_F(ContextTest, APrefixMayBeDefinedAfterTheTermsUsingItAndCoreTermsCannotBeRedefined) {
  auto ctx = Inline(R"({"a": "p:a", "p": "https://example.org/p/", "location": "https://example.org/loc",
                        "near": "ngsi-ld:nearBy"})");
  EXPECT_EQ(ctx->Expand("a"), "https://example.org/p/a");
  EXPECT_EQ(ctx->Expand("location"), std::string(kNgsiLd) + "location");
  EXPECT_EQ(ctx->Expand("near"), std::string(kNgsiLd) + "nearBy");  // the core's prefixes resolve user terms
}

TEST_F(ContextTest, HeldContextsAreFoundByTheirUrlsAndBuiltOnce) {
  for (const char* url : {"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
                          "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld"}) {
    auto ctx = reg_->FromUrl(url);
    ASSERT_TRUE(ctx.ok()) << url;
    EXPECT_EQ(ctx->get(), reg_->Default().get()) << url;
  }
  auto sdm = reg_->FromUrl(kSdmUrl);
  ASSERT_TRUE(sdm.ok()) << sdm.status().ToString();
  auto again = reg_->FromUrl("https://ioc.hanoi.example/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(sdm->get(), again->get());
  EXPECT_EQ((*sdm)->Expand("pm25"), "https://smartdatamodels.org/dataModel.Environment/pm25");
  EXPECT_EQ((*sdm)->Expand("AirQualityObserved"),
            "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
  EXPECT_EQ((*sdm)->Expand("availableSpotNumber"), "https://smartdatamodels.org/dataModel.Parking/availableSpotNumber");
  EXPECT_EQ((*sdm)->Expand("dateObserved"), "https://smartdatamodels.org/dateObserved");
  EXPECT_EQ((*sdm)->Expand("location"), std::string(kNgsiLd) + "location");
  EXPECT_EQ((*sdm)->Compact("https://smartdatamodels.org/dataModel.Streetlighting/powerState"), "powerState");
  EXPECT_EQ((*sdm)->Compact("https://smartdatamodels.org/dataModel.Alert/unknownField"), "sdm-alert:unknownField");
  EXPECT_EQ(reg_->held().size(), 2u);
  ASSERT_NE(reg_->FindById("ngsi-ld-core-context-v1.4.jsonld"), nullptr);
  EXPECT_NE(reg_->FindById("ngsi-ld-core-context-v1.4.jsonld")->document.find("ngsi-ld:hasValue"), std::string::npos);
}

TEST_F(ContextTest, TheLinkHeaderNamesTheContext) {
  auto sdm = reg_->FromLinkHeader(std::string("<") + kSdmUrl +
                                  ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
  ASSERT_TRUE(sdm.ok()) << sdm.status().ToString();
  EXPECT_EQ((*sdm)->Expand("pm10"), "https://smartdatamodels.org/dataModel.Environment/pm10");
  // Another relation is not a context: the default applies.
  auto other = reg_->FromLinkHeader("<https://example.org/next>; rel=\"next\"");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->get(), reg_->Default().get());
  auto malformed = reg_->FromLinkHeader("https://example.org/ctx.jsonld");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_STREQ(malformed.status().problem_type(), kBadRequestData);
}

TEST_F(ContextTest, AContextWeDoNotHoldIsNeverFetchedButRefusedWith503) {
  auto link = reg_->FromLinkHeader(
      "<https://raw.githubusercontent.com/example/ctx.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"");
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), StatusCode::kUnavailable);
  EXPECT_STREQ(link.status().problem_type(), kLdContextNotAvailable);
  auto inline_ref = reg_->FromValue(json::parse(R"(["https://example.org/ctx.jsonld", {"a": "urn:a"}])"));
  EXPECT_STREQ(inline_ref.status().problem_type(), kLdContextNotAvailable);
  auto import = reg_->FromValue(json::parse(R"({"@import": "https://example.org/ctx.jsonld"})"));
  EXPECT_STREQ(import.status().problem_type(), kLdContextNotAvailable);
  // The problem document (src/http/problem.cc) carries the NGSI-LD type and status 503.
  http::Response problem = http::ProblemResponse(link.status(), "rid", "/ngsi-ld/v1/entities");
  EXPECT_EQ(problem.status, 503);
  json body = json::parse(problem.body);
  EXPECT_EQ(body["type"], kLdContextNotAvailable);
  EXPECT_EQ(body["title"], "Service unavailable");
}

TEST_F(ContextTest, MalformedContextsAreBadRequestDataNamingTheContext) {
  for (const char* bad :
       {"true", "42", R"(["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld", 7])", R"({"a": 5})",
        R"({"a": ["x"]})", R"({"a": "b", "b": "a"})", R"({"@vocab": 3})", R"({"@unknown": "x"})",
        R"({"a": {"@reverse": "urn:x"}})", R"({"a": "@value"})", R"({"": "urn:x"})"}) {
    auto ctx = reg_->FromValue(json::parse(bad));
    ASSERT_FALSE(ctx.ok()) << bad;
    EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_STREQ(ctx.status().problem_type(), kBadRequestData) << bad;
    EXPECT_EQ(ctx.status().field(), "@context") << bad;
  }
  // null resets to the core context.
  auto reset = reg_->FromValue(json::parse(R"([{"a": "urn:a"}, null])"));
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ((*reset)->Expand("a"), std::string(kDefault) + "a");
}

TEST_F(ContextTest, NgsiLdStatusesMapToTheirProblemTypesAndHttpStatuses) {
  struct Case {
    Status status;
    int http;
    const char* type;
  } cases[] = {
      {InvalidRequest("x"), 400, kInvalidRequest},
      {BadRequestData("x", "id"), 400, kBadRequestData},
      {EntityAlreadyExists("x"), 409, kAlreadyExists},
      {ResourceNotFound("x"), 404, kResourceNotFound},
      {OperationNotSupported("x"), 422, kOperationNotSupported},
      {NonexistentTenant("x"), 404, kNonexistentTenant},
      {AsNgsiLd(InvalidArgument("bad", "q")), 400, kBadRequestData},
      {AsNgsiLd(NotFound("gone")), 404, kResourceNotFound},
  };
  for (const auto& c : cases) {
    http::Response r = http::ProblemResponse(c.status, "rid", "/x");
    EXPECT_EQ(r.status, c.http);
    json body = json::parse(r.body);
    EXPECT_EQ(body["type"], c.type);
    EXPECT_TRUE(body.contains("title"));
  }
  // Without a problem type, the platform's own.
  EXPECT_EQ(json::parse(http::ProblemResponse(NotFound("x"), "", "").body)["type"], "urn:thanglong:problem:not-found");
  json embedded = ProblemJson(EntityAlreadyExists("the entity urn:a already exists"));
  EXPECT_EQ(embedded["type"], kAlreadyExists);
  EXPECT_EQ(embedded["status"], 409);
  EXPECT_FALSE(embedded.contains("request_id"));
}

TEST(IsUriTest, AcceptsSchemesAndRefusesSpacesAndBareWords) {
  for (const char* good : {"urn:ngsi-ld:Building:1", "https://example.org/a", "urn:a", "x-y.z+w:1"}) {
    EXPECT_TRUE(IsUri(good)) << good;
  }
  for (const char* bad :
       {"", "thisisaninvaliduri", "urn:", ":x", "1urn:x", "urn:a b", "urn:a<b", "urn:a\"", "urn:\t"}) {
    EXPECT_FALSE(IsUri(bad)) << bad;
  }
}

}  // namespace
}  // namespace tl::ngsild
