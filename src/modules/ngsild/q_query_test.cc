#include "modules/ngsild/q_query.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tl::ngsild {
namespace {

using nlohmann::json;

// An AirQualityObserved station by Hoàn Kiếm lake, in normalized form, with the shapes the ETSI suite
// uses: sub-attributes, a multi-instance attribute, a relationship, compound and typed values.
json HoanKiemStation() {
  return json::parse(R"({
    "id": "urn:ngsi-ld:AirQualityObserved:HN-HoanKiem-001",
    "type": "AirQualityObserved",
    "pm25": {"type": "Property", "value": 162.4, "unitCode": "GQ",
             "observedAt": "2025-01-14T08:00:00.000Z",
             "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Device:pm-sensor-17"}},
    "pm10": {"type": "Property", "value": 201},
    "airQualityLevel": {"type": "Property", "value": "unhealthy"},
    "reliability": {"type": "Property", "value": 0.9},
    "status": {"type": "Property", "value": "active"},
    "congested": {"type": "Property", "value": false},
    "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": "2025-01-14T15:00:00+07:00"}},
    "openingDate": {"type": "Property", "value": "2019-05-01"},
    "sampleTime": {"type": "Property", "value": "08:30:00"},
    "address": {"type": "Property", "value": {
        "addressLocality": "Hà Nội", "addressRegion": "Hoàn Kiếm",
        "streetAddress": "Đinh Tiên Hoàng", "postalCode": "100000",
        "geo": {"district": {"code": "002"}}}},
    "refPointOfInterest": {"type": "Relationship", "object": "urn:ngsi-ld:PointOfInterest:HoanKiemLake"},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.8524, 21.0287]}},
    "tags": {"type": "Property", "value": ["lake", "old-quarter", "tourism"]},
    "counter": {"type": "Property", "value": 9007199254740993},
    "nothing": {"type": "Property", "value": null},
    "speed": [
      {"type": "Property", "value": 55, "source": {"type": "Property", "value": "Speedometer"}},
      {"type": "Property", "value": 54.5, "source": {"type": "Property", "value": "GPS"},
       "datasetId": "urn:ngsi-ld:Property:gpsBxyz123-speed"}
    ],
    "name": {"type": "LanguageProperty", "languageMap": {"vi": "Hồ Hoàn Kiếm", "en": "Sword Lake"}},
    "category": {"type": "VocabProperty", "vocab": ["monument", "sightseeing"]},
    "config": {"type": "JsonProperty", "json": {"id": "some-id", "anythingElse": "anything-else", "level": 3}},
    "readings": {"type": "ListProperty", "valueList": [12, 15, 19]},
    "neighbours": {"type": "ListRelationship",
                   "objectList": [{"object": "urn:ngsi-ld:Station:A"}, {"object": "urn:ngsi-ld:Station:B"}]},
    "openingHours": {"type": "Property", "value": [
        {"dayOfWeek": "Monday", "opens": "07:00:00"}, {"dayOfWeek": "Sunday", "opens": "09:00:00"}]},
    "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]
  })");
}

Query MustParse(std::string_view q) {
  auto r = Query::Parse(q);
  EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
  if (!r.ok()) return std::move(Query::Parse("never_matches_anything").value());
  return std::move(r).value();
}

bool Eval(std::string_view q, const json& entity = HoanKiemStation()) {
  return MustParse(q).Matches(entity);
}

void ExpectInvalid(std::string_view q, std::string_view message_part = {}) {
  auto r = Query::Parse(q);
  ASSERT_FALSE(r.ok()) << "accepted: " << q;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q;
  EXPECT_EQ(r.status().field(), "q") << q;
  if (!message_part.empty()) {
    EXPECT_NE(r.status().message().find(message_part), std::string::npos)
        << q << " -> " << r.status().message() << " (expected '" << message_part << "')";
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing.

TEST(QParseTest, ParsesAComparison) {
  Query q = MustParse("pm25>150");
  ASSERT_EQ(q.root().kind, QueryNode::Kind::kTerm);
  const Term& t = q.root().term;
  EXPECT_EQ(t.path.attribute(), "pm25");
  EXPECT_EQ(t.op, Operator::kGreater);
  ASSERT_EQ(t.values.size(), 1u);
  EXPECT_EQ(t.values[0].kind, Literal::Kind::kNumber);
  EXPECT_EQ(t.values[0].number, 150);
  EXPECT_TRUE(t.values[0].is_integer);
  EXPECT_EQ(q.ToString(), "pm25>150");
}

TEST(QParseTest, ParsesEveryOperator) {
  const std::pair<const char*, Operator> cases[] = {
      {"a==1", Operator::kEqual},          {"a!=1", Operator::kUnequal},       {"a>1", Operator::kGreater},
      {"a>=1", Operator::kGreaterOrEqual}, {"a<1", Operator::kLess},           {"a<=1", Operator::kLessOrEqual},
      {"a~=x.*", Operator::kMatches},      {"a!~=x.*", Operator::kNotMatches}, {"a", Operator::kExists},
      {"!a", Operator::kNotExists},
  };
  for (const auto& [text, op] : cases) {
    Query q = MustParse(text);
    EXPECT_EQ(q.root().term.op, op) << text;
  }
}

TEST(QParseTest, AndBindsTighterThanOr) {
  Query q = MustParse("a==1|b==2;c==3");
  ASSERT_EQ(q.root().kind, QueryNode::Kind::kOr);
  ASSERT_EQ(q.root().children.size(), 2u);
  EXPECT_EQ(q.root().children[0].kind, QueryNode::Kind::kTerm);
  EXPECT_EQ(q.root().children[1].kind, QueryNode::Kind::kAnd);
  EXPECT_EQ(q.ToString(), "a==1|b==2;c==3");

  Query grouped = MustParse("(a==1|b==2);c==3");
  ASSERT_EQ(grouped.root().kind, QueryNode::Kind::kAnd);
  EXPECT_EQ(grouped.root().children[0].kind, QueryNode::Kind::kOr);
  EXPECT_EQ(grouped.ToString(), "(a==1|b==2);c==3");
}

TEST(QParseTest, FlattensNestedGroupsOfTheSameOperator) {
  Query q = MustParse("((a;b);c);(d)");
  ASSERT_EQ(q.root().kind, QueryNode::Kind::kAnd);
  EXPECT_EQ(q.root().children.size(), 4u);
  EXPECT_EQ(q.ToString(), "a;b;c;d");
  EXPECT_EQ(MustParse("(((a)))").ToString(), "a");
}

TEST(QParseTest, ParsesLiteralKinds) {
  auto literal = [](std::string_view q) { return MustParse(q).root().term.values.at(0); };
  EXPECT_EQ(literal("a==-12").kind, Literal::Kind::kNumber);
  EXPECT_EQ(literal("a==-12").integer, -12);
  EXPECT_EQ(literal("a==0.5").number, 0.5);
  EXPECT_FALSE(literal("a==0.5").is_integer);
  EXPECT_EQ(literal("a==1.5e3").number, 1500);
  EXPECT_EQ(literal("a==\"Hà Nội\"").kind, Literal::Kind::kString);
  EXPECT_EQ(literal("a==\"Hà Nội\"").text, "Hà Nội");
  EXPECT_EQ(literal(R"(a=="say \"xin chào\" \\ ok")").text, R"(say "xin chào" \ ok)");
  EXPECT_EQ(literal("a==true").kind, Literal::Kind::kBoolean);
  EXPECT_TRUE(literal("a==true").boolean);
  EXPECT_FALSE(literal("a==false").boolean);
  EXPECT_EQ(literal("a==2025-01-14T08:00:00Z").kind, Literal::Kind::kDateTime);
  EXPECT_EQ(literal("a==2025-01-14T08:00:00.123+07:00").kind, Literal::Kind::kDateTime);
  EXPECT_EQ(literal("a==2025-01-14").kind, Literal::Kind::kDate);
  EXPECT_EQ(literal("a==08:30:00").kind, Literal::Kind::kTime);
  EXPECT_EQ(literal("a==08:30:00Z").kind, Literal::Kind::kTime);
  EXPECT_EQ(literal("a==urn:ngsi-ld:Building:qlTarget019x29").kind, Literal::Kind::kUri);
  EXPECT_EQ(literal("a==https://example.org/x?y=1").kind, Literal::Kind::kUri);
  EXPECT_EQ(literal("a==\"\"").text, "");
}

TEST(QParseTest, ParsesRangesAndLists) {
  Term range = MustParse("pm25==100..200").root().term;
  EXPECT_TRUE(range.is_range);
  ASSERT_EQ(range.values.size(), 2u);
  EXPECT_EQ(range.values[0].number, 100);
  EXPECT_EQ(range.values[1].number, 200);

  Term dates = MustParse("dateObserved==2025-01-01T00:00:00Z..2025-01-31T23:59:59Z").root().term;
  EXPECT_TRUE(dates.is_range);
  EXPECT_EQ(dates.values[1].text, "2025-01-31T23:59:59Z");

  Term decimals = MustParse("a==0.5..1.5").root().term;
  EXPECT_EQ(decimals.values[0].number, 0.5);
  EXPECT_EQ(decimals.values[1].number, 1.5);

  Term list = MustParse(R"(status=="active","maintenance","closed")").root().term;
  EXPECT_FALSE(list.is_range);
  EXPECT_EQ(list.values.size(), 3u);
  EXPECT_EQ(MustParse(R"(status=="active","closed")").ToString(), R"(status=="active","closed")");
  EXPECT_EQ(MustParse("a!=1..5").ToString(), "a!=1..5");
  EXPECT_EQ(MustParse("ref==urn:a:1,urn:a:2").root().term.values.size(), 2u);
}

TEST(QParseTest, ParsesAttributePaths) {
  const AttributePath p = MustParse("pm25.providedBy==urn:ngsi-ld:Device:x").root().term.path;
  EXPECT_EQ(p.names, (std::vector<std::string>{"pm25", "providedBy"}));
  EXPECT_TRUE(p.keys.empty());

  const AttributePath c = MustParse("address[geo][district][code]==\"002\"").root().term.path;
  EXPECT_EQ(c.names, std::vector<std::string>{"address"});
  EXPECT_EQ(c.keys, (std::vector<std::string>{"geo", "district", "code"}));

  const AttributePath both = MustParse("a.b.c[d]").root().term.path;
  EXPECT_EQ(both.ToString(), "a.b.c[d]");
  EXPECT_EQ(MustParse("schema:name==\"x\"").root().term.path.attribute(), "schema:name");
  EXPECT_EQ(MustParse("ngsi-ld_x1").root().term.path.attribute(), "ngsi-ld_x1");
}

TEST(QParseTest, ListsTheAttributesItRefersTo) {
  Query q = MustParse("pm25>150;(status==\"active\"|pm25.unitCode==\"GQ\");!address[x];location;pm10<5");
  EXPECT_EQ(q.attributes(), (std::vector<std::string>{"pm25", "status", "address", "location", "pm10"}));
  EXPECT_EQ(MustParse("a").attributes(), std::vector<std::string>{"a"});
}

TEST(QParseTest, PrintsACanonicalFormThatParsesBack) {
  for (std::string_view text : {
           "pm25>150;status==\"active\"",
           "(a==1|b!=2);c>=2025-01-01T00:00:00Z;!d",
           "a==1..5|b==\"x\",\"y\";c[k]<=3.5",
           R"(name~="(?i)^hồ.*kiếm$";x!~="a\"b")",
           R"(a=="quote \" and backslash \\")",
           "x.y.z==true;w==urn:ngsi-ld:X:1",
       }) {
    Query q = MustParse(text);
    Query again = MustParse(q.ToString());
    EXPECT_EQ(again.ToString(), q.ToString()) << text;
  }
  EXPECT_EQ(MustParse("name~=Ho.*").ToString(), R"(name~="Ho.*")");
}

TEST(QParseTest, AcceptsUnquotedPatternsWithGroupsAndAlternation) {
  Term t = MustParse("name~=(Hồ|Đền).*;status==\"active\"").root().children.at(0).term;
  EXPECT_EQ(t.pattern, "(Hồ|Đền).*");
  EXPECT_EQ(MustParse("a~=[;|)]x").root().term.pattern, "[;|)]x");
  EXPECT_EQ(MustParse("(a~=x\\)y)").root().term.pattern, "x\\)y");
  EXPECT_EQ(MustParse(R"(a~="x;y|z")").root().term.pattern, "x;y|z");
}

TEST(QParseTest, RejectsMalformedQueries) {
  ExpectInvalid("", "empty");
  ExpectInvalid("speed>", "expected a value after '>'");  // the ETSI suite's invalid query
  ExpectInvalid("a==", "expected a value");
  ExpectInvalid("a=5", "unknown operator");
  ExpectInvalid("a==1;", "expected an attribute name");
  ExpectInvalid(";a==1", "expected an attribute name");
  ExpectInvalid("a==1;;b==2", "expected an attribute name");
  ExpectInvalid("a==1||b==2", "expected an attribute name");
  ExpectInvalid("()", "expected an attribute name");
  ExpectInvalid("(a==1", "unbalanced '('");
  ExpectInvalid("a==1)", "unbalanced ')'");
  ExpectInvalid("a==1)(", "unbalanced ')'");
  ExpectInvalid("a==hello", "quote strings");
  ExpectInvalid("a==\"unterminated", "unterminated");
  ExpectInvalid("a == 1", "whitespace");
  ExpectInvalid("a==1 ", "whitespace");
  ExpectInvalid(" a==1", "whitespace");
  ExpectInvalid("a<true", "needs a number");
  ExpectInvalid("a>urn:ngsi-ld:X:1", "needs a number");
  ExpectInvalid("a>1..5", "only allowed with == and !=");
  ExpectInvalid("a<=1,2", "only allowed with == and !=");
  ExpectInvalid("a==1..\"x\"", "a range needs");
  ExpectInvalid("a==true..false", "a range needs");
  ExpectInvalid("a==1,2..3", "cannot contain a range");
  ExpectInvalid("a==1..2..3", "expected ';'");
  ExpectInvalid("a==1..", "expected a value after '..'");
  ExpectInvalid("a==1,", "expected a value after ','");
  ExpectInvalid("a==\"x\"y", "expected ';'");
  ExpectInvalid("a$==1", "expected an operator");
  ExpectInvalid("a.==1", "sub-attribute name");
  ExpectInvalid("a[==1", "a key after '['");
  ExpectInvalid("a[b==1", "expected ']'");
  ExpectInvalid("a[b].c==1", "expected an operator");
  ExpectInvalid("!", "expected an attribute name");
  ExpectInvalid("!a==1", "expected ';'");
  ExpectInvalid("a!", "expected an operator");
  ExpectInvalid("tốc_độ>5", "non-ASCII");
  ExpectInvalid("a==0x10", "quote strings");
  ExpectInvalid("a==1.", "quote strings");
  ExpectInvalid("a==+1", "quote strings");
  ExpectInvalid("a==NaN", "quote strings");
  ExpectInvalid("a==2025-13-01", "quote strings");
  ExpectInvalid("a==25:00:00", "quote strings");
  ExpectInvalid("a~=", "expected a regular expression");
  ExpectInvalid("a~=\"\"", "expected a regular expression");
  ExpectInvalid("a~=(?i)", "expected a regular expression");
  ExpectInvalid("a~=(abc", "invalid regular expression");
  ExpectInvalid("a~=[abc", "invalid regular expression");
  ExpectInvalid("a~=x(?i)y", "invalid regular expression");
  ExpectInvalid("a~=(a)\\1", "invalid regular expression");  // back-references are refused
  ExpectInvalid("a~=\"x\"y", "after the pattern");
  ExpectInvalid("a~=x y", "whitespace");
}

TEST(QParseTest, ReportsThePositionOfTheError) {
  auto r = Query::Parse("pm25>150;status==activ");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 18"), std::string::npos) << r.status().message();
  auto w = Query::Parse("a==1;b ==2");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("position 7"), std::string::npos) << w.status().message();
}

TEST(QParseTest, RefusesPathologicalInput) {
  // Length.
  std::string long_query = "a==\"" + std::string(kMaxQueryLength, 'x') + "\"";
  ExpectInvalid(long_query, "longer than 4096 bytes");
  std::string max_query = "a==\"" + std::string(kMaxQueryLength - 5, 'x') + "\"";
  ASSERT_EQ(max_query.size(), kMaxQueryLength);
  EXPECT_TRUE(Query::Parse(max_query).ok());

  // Nesting.
  std::string deep = std::string(kMaxNestingDepth, '(') + "a==1" + std::string(kMaxNestingDepth, ')');
  EXPECT_TRUE(Eval(deep, json{{"a", {{"type", "Property"}, {"value", 1}}}}));
  std::string too_deep = std::string(kMaxNestingDepth + 1, '(') + "a==1" + std::string(kMaxNestingDepth + 1, ')');
  ExpectInvalid(too_deep, "nest deeper than 64");
  ExpectInvalid(std::string(2000, '('), "nest deeper than 64");

  // Encoding.
  ExpectInvalid("a==\"\xC3\"", "not valid UTF-8");
  ExpectInvalid(std::string("a==\"x\0y\"", 8), "NUL");

  // Patterns: nested groups, blown-up repetitions.
  ExpectInvalid("a~=" + std::string(70, '(') + "x" + std::string(70, ')'), "nest deeper than 64");
  ExpectInvalid("a~=((a?){100}){100}", "too complex");
  ExpectInvalid("a~=(.*.*.*.*.*.*.*.*.*.*){500}", "too complex");
  ExpectInvalid("a~=x{1000000}", "too complex");

  // Many terms within the length limit are fine.
  std::string many;
  for (int i = 0; i < 500; ++i) many += (i ? ";a" : "a") + std::to_string(i);
  EXPECT_TRUE(Query::Parse(many).ok());
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

TEST(QEvalTest, ComparesNumbers) {
  EXPECT_TRUE(Eval("pm25>150"));
  EXPECT_FALSE(Eval("pm25>200"));
  EXPECT_TRUE(Eval("pm25>=162.4"));
  EXPECT_TRUE(Eval("pm25<=162.4"));
  EXPECT_FALSE(Eval("pm25<162.4"));
  EXPECT_TRUE(Eval("pm25==162.4"));
  EXPECT_TRUE(Eval("pm25!=162"));
  EXPECT_TRUE(Eval("pm10==201"));
  EXPECT_TRUE(Eval("pm10==201.0"));
  EXPECT_TRUE(Eval("pm10==2.01e2"));
  EXPECT_TRUE(Eval("pm10>-5"));
  EXPECT_TRUE(Eval("reliability<1"));
  EXPECT_TRUE(Eval("reliability>0.89"));
}

TEST(QEvalTest, ComparesLargeIntegersExactly) {
  EXPECT_TRUE(Eval("counter==9007199254740993"));
  EXPECT_FALSE(Eval("counter==9007199254740992"));
  EXPECT_TRUE(Eval("counter>9007199254740992"));
  json e = {{"n", {{"type", "Property"}, {"value", 18446744073709551615ull}}}};
  EXPECT_TRUE(Eval("n>9223372036854775807", e));
  EXPECT_FALSE(Eval("n==9223372036854775807", e));
}

TEST(QEvalTest, ComparesStringsAndVietnameseText) {
  EXPECT_TRUE(Eval("status==\"active\""));
  EXPECT_FALSE(Eval("status==\"Active\""));
  EXPECT_TRUE(Eval("status!=\"closed\""));
  EXPECT_TRUE(Eval("airQualityLevel>\"moderate\""));
  EXPECT_TRUE(Eval("address[addressLocality]==\"Hà Nội\""));
  EXPECT_TRUE(Eval("address[addressRegion]==\"Hoàn Kiếm\""));
  // The query's text is NFC-normalised: "Hà" typed with a combining grave accent still matches.
  EXPECT_TRUE(Eval("address[addressLocality]==\"Ha\xCC\x80 N\xE1\xBB\x99i\""));
  EXPECT_TRUE(Eval("address[addressLocality]==\"Ha\xCC\x80 No\xCC\xA3\xCC\x82i\""));  // fully decomposed
}

TEST(QEvalTest, ComparesBooleans) {
  EXPECT_TRUE(Eval("congested==false"));
  EXPECT_FALSE(Eval("congested==true"));
  EXPECT_TRUE(Eval("congested!=true"));
  EXPECT_FALSE(Eval("congested==0"));
  EXPECT_FALSE(Eval("congested==\"false\""));
}

TEST(QEvalTest, DifferentTypesNeverCompare) {
  EXPECT_FALSE(Eval("pm25==\"162.4\""));
  EXPECT_FALSE(Eval("pm25!=\"162.4\""));  // a number is neither equal nor unequal to a string
  EXPECT_FALSE(Eval("pm25<\"z\""));
  EXPECT_FALSE(Eval("status>5"));
  EXPECT_FALSE(Eval("status!=5"));
  EXPECT_FALSE(Eval("address==5"));  // a compound value
  EXPECT_FALSE(Eval("address!=\"x\""));
  EXPECT_FALSE(Eval("status==true"));
  EXPECT_FALSE(Eval("pm25~=16.*"));  // patterns only match strings
  EXPECT_FALSE(Eval("pm25!~=16.*"));
}

TEST(QEvalTest, MissingAttributesAreFalseNotErrors) {
  for (std::string_view q :
       {"no2>10", "no2==10", "no2!=10", "no2<10", "no2~=x", "no2!~=x", "no2==1..5", "no2", "pm25.missing==1",
        "address[missing]==\"x\"", "address[addressLocality][x]", "nothing", "nothing==1", "nothing!=1"}) {
    EXPECT_FALSE(Eval(q)) << q;
  }
  EXPECT_TRUE(Eval("!no2"));
  EXPECT_TRUE(Eval("!nothing"));  // a null value is not there
  EXPECT_FALSE(Eval("!pm25"));
  EXPECT_TRUE(Eval("no2>10|pm25>10"));
  EXPECT_FALSE(Eval("no2>10;pm25>10"));
}

TEST(QEvalTest, TestsExistence) {
  EXPECT_TRUE(Eval("pm25"));
  EXPECT_TRUE(Eval("location"));
  EXPECT_TRUE(Eval("pm25.providedBy"));
  EXPECT_TRUE(Eval("pm25.unitCode"));
  EXPECT_FALSE(Eval("pm10.unitCode"));
  EXPECT_TRUE(Eval("address[geo][district]"));
  EXPECT_TRUE(Eval("speed.source"));
  EXPECT_FALSE(Eval("id"));  // id and type are not attributes
  EXPECT_FALSE(Eval("type"));
  ExpectInvalid("@context");
}

TEST(QEvalTest, MatchesRangesInclusively) {
  EXPECT_TRUE(Eval("pm25==150..200"));
  EXPECT_TRUE(Eval("pm10==201..300"));
  EXPECT_TRUE(Eval("pm10==100..201"));
  EXPECT_FALSE(Eval("pm10==202..300"));
  EXPECT_TRUE(Eval("pm10!=202..300"));
  EXPECT_FALSE(Eval("pm10!=200..300"));
  EXPECT_TRUE(Eval("status==\"a\"..\"b\""));
  EXPECT_FALSE(Eval("status==\"b\"..\"z\""));
  EXPECT_TRUE(Eval("openingDate==2019-01-01..2019-12-31"));
  EXPECT_FALSE(Eval("openingDate==2020-01-01..2020-12-31"));
  EXPECT_TRUE(Eval("pm25.observedAt==2025-01-14T07:00:00Z..2025-01-14T09:00:00Z"));
}

TEST(QEvalTest, MatchesValueLists) {
  EXPECT_TRUE(Eval("status==\"maintenance\",\"active\""));
  EXPECT_FALSE(Eval("status==\"maintenance\",\"closed\""));
  EXPECT_TRUE(Eval("status!=\"maintenance\",\"closed\""));
  EXPECT_FALSE(Eval("status!=\"maintenance\",\"active\""));
  EXPECT_TRUE(Eval("pm10==100,201,300"));
  EXPECT_TRUE(Eval("refPointOfInterest==urn:ngsi-ld:PointOfInterest:X,urn:ngsi-ld:PointOfInterest:HoanKiemLake"));
}

TEST(QEvalTest, ArrayValuesMatchWhenAnElementDoes) {
  EXPECT_TRUE(Eval("tags==\"lake\""));
  EXPECT_TRUE(Eval("tags==\"museum\",\"tourism\""));
  EXPECT_FALSE(Eval("tags==\"museum\""));
  EXPECT_FALSE(Eval("tags!=\"lake\""));
  EXPECT_TRUE(Eval("tags!=\"museum\""));
  EXPECT_TRUE(Eval("tags~=^old-"));
  EXPECT_TRUE(Eval("readings>18"));
  EXPECT_FALSE(Eval("readings>19"));
  EXPECT_TRUE(Eval("readings==15"));
}

TEST(QEvalTest, MultiInstanceAttributesMatchWhenAnInstanceDoes) {
  EXPECT_TRUE(Eval("speed==55"));
  EXPECT_TRUE(Eval("speed==54.5"));
  EXPECT_TRUE(Eval("speed>54.9"));
  EXPECT_FALSE(Eval("speed<50"));
  EXPECT_TRUE(Eval("speed.source==\"GPS\""));
  EXPECT_TRUE(Eval("speed.datasetId==urn:ngsi-ld:Property:gpsBxyz123-speed"));
  EXPECT_FALSE(Eval("speed.source==\"Radar\""));
}

TEST(QEvalTest, FollowsSubAttributesAndMembers) {
  EXPECT_TRUE(Eval("pm25.providedBy==urn:ngsi-ld:Device:pm-sensor-17"));
  EXPECT_TRUE(Eval("pm25.providedBy==\"urn:ngsi-ld:Device:pm-sensor-17\""));
  EXPECT_TRUE(Eval("pm25.unitCode==\"GQ\""));
  EXPECT_TRUE(Eval("pm25.observedAt>2025-01-14T07:59:59Z"));
  EXPECT_TRUE(Eval("pm25.observedAt==2025-01-14T08:00:00Z"));  // ".000Z" is the same instant
  EXPECT_FALSE(Eval("pm25.observedAt.x==1"));
  EXPECT_TRUE(Eval("pm25.value==162.4"));  // a member reached by name, as it is
}

TEST(QEvalTest, NavigatesCompoundValues) {
  EXPECT_TRUE(Eval("address[geo][district][code]==\"002\""));
  EXPECT_TRUE(Eval("address[postalCode]==\"100000\""));
  EXPECT_FALSE(Eval("address[postalCode]==100000"));
  EXPECT_TRUE(Eval("openingHours[dayOfWeek]==\"Sunday\""));  // an array of objects: any element
  EXPECT_TRUE(Eval("openingHours[opens]<08:00:00"));
  EXPECT_TRUE(Eval("address[streetAddress]~=^Đinh"));
}

TEST(QEvalTest, ComparesRelationshipTargets) {
  EXPECT_TRUE(Eval("refPointOfInterest==urn:ngsi-ld:PointOfInterest:HoanKiemLake"));
  EXPECT_TRUE(Eval("refPointOfInterest==\"urn:ngsi-ld:PointOfInterest:HoanKiemLake\""));
  EXPECT_FALSE(Eval("refPointOfInterest==urn:ngsi-ld:PointOfInterest:WestLake"));
  EXPECT_TRUE(Eval("refPointOfInterest!=urn:ngsi-ld:PointOfInterest:WestLake"));
  EXPECT_TRUE(Eval("refPointOfInterest~=PointOfInterest:Hoan"));
  EXPECT_TRUE(Eval("neighbours==urn:ngsi-ld:Station:B"));
  EXPECT_FALSE(Eval("neighbours==urn:ngsi-ld:Station:C"));

  // The ETSI suite's building-query-language-features entity.
  json building = json::parse(R"({
    "id": "urn:ngsi-ld:Building:randomUUID", "type": "Building",
    "address": {"type": "Property", "value": {"city": "Berlin", "street": "Ulrich Strasse"}},
    "color": {"type": "LanguageProperty", "languageMap": {"fr": "rouge", "en": "red", "de": "rot"}},
    "category": {"type": "VocabProperty", "vocab": "commercial"},
    "managedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Building:qlTarget019x29"}})");
  EXPECT_TRUE(Eval("managedBy==urn:ngsi-ld:Building:qlTarget019x29", building));
  EXPECT_TRUE(Eval("address[city]==\"Berlin\"", building));
  EXPECT_TRUE(Eval("color==\"rot\"", building));
  EXPECT_TRUE(Eval("category==\"commercial\"", building));
  EXPECT_TRUE(Eval("address[city]==\"Berlin\";managedBy==urn:ngsi-ld:Building:qlTarget019x29", building));
}

TEST(QEvalTest, ReadsLanguageVocabJsonAndListProperties) {
  EXPECT_TRUE(Eval("name==\"Sword Lake\""));
  EXPECT_TRUE(Eval("name==\"Hồ Hoàn Kiếm\""));
  EXPECT_TRUE(Eval("name[vi]==\"Hồ Hoàn Kiếm\""));
  EXPECT_FALSE(Eval("name[en]==\"Hồ Hoàn Kiếm\""));
  EXPECT_TRUE(Eval("name~=(?i)sword"));
  EXPECT_TRUE(Eval("category==\"monument\""));
  EXPECT_FALSE(Eval("category==\"museum\""));
  EXPECT_TRUE(Eval("config[anythingElse]==\"anything-else\""));
  EXPECT_TRUE(Eval("config[level]>=3"));
  EXPECT_TRUE(Eval("readings==12,99"));
}

TEST(QEvalTest, ComparesDatesAndTimes) {
  // dateObserved is a typed literal {"@type": "DateTime", "@value": "...+07:00"}: 08:00 UTC.
  EXPECT_TRUE(Eval("dateObserved==2025-01-14T08:00:00Z"));
  EXPECT_TRUE(Eval("dateObserved>2025-01-14T07:59:59.999Z"));
  EXPECT_FALSE(Eval("dateObserved>2025-01-14T08:00:00.001Z"));
  EXPECT_TRUE(Eval("dateObserved<2025-01-14T15:00:01+07:00"));
  EXPECT_TRUE(Eval("dateObserved==\"2025-01-14T08:00:00Z\""));
  EXPECT_TRUE(Eval("openingDate>=2019-05-01"));
  EXPECT_TRUE(Eval("openingDate<2020-01-01"));
  EXPECT_FALSE(Eval("openingDate>2019-05-01"));
  EXPECT_TRUE(Eval("sampleTime<09:00:00"));
  EXPECT_TRUE(Eval("sampleTime>08:29:59"));
  EXPECT_FALSE(Eval("pm25>2025-01-01"));  // a number is not a date
}

TEST(QEvalTest, MatchesPatterns) {
  EXPECT_TRUE(Eval("status~=act"));
  EXPECT_TRUE(Eval("status~=^act.*e$"));
  EXPECT_FALSE(Eval("status~=^ctive"));
  EXPECT_FALSE(Eval("status~=ACT"));
  EXPECT_TRUE(Eval("status~=(?i)ACT"));
  EXPECT_TRUE(Eval("status!~=closed"));
  EXPECT_FALSE(Eval("status!~=act"));
  EXPECT_TRUE(Eval("status~=\"^(active|maintenance)$\""));
  EXPECT_TRUE(Eval("status~=(inactive|active)$"));
  EXPECT_TRUE(Eval("address[addressRegion]~=Hoàn.*"));
  EXPECT_TRUE(Eval("pm25.unitCode~=[A-Z]{2}"));
  EXPECT_TRUE(Eval("status~=\\w+;pm25>150"));
  EXPECT_TRUE(Eval("status~=zzz|pm25>150"));  // an unquoted pattern ends at '|'
  EXPECT_TRUE(Eval("(status~=a(c|x)t)"));
}

TEST(QEvalTest, BoundsPatternWork) {
  // A catastrophic-backtracking pattern runs in polynomial time.
  json e = {{"s", {{"type", "Property"}, {"value", std::string(20000, 'a') + "b"}}}};
  EXPECT_FALSE(Eval("s~=^(a+)+$", e));
  EXPECT_TRUE(Eval("s~=(a+)+b", e));
  // A long text still matches a small pattern...
  json big = {{"s", {{"type", "Property"}, {"value", std::string(100000, 'x') + "needle"}}}};
  EXPECT_TRUE(Eval("s~=needle", big));
  // ...but a text too long for the pattern's size does not match, and nothing crashes.
  json huge = {{"s", {{"type", "Property"}, {"value", std::string(2000000, 'x') + "needle"}}}};
  EXPECT_FALSE(Eval("s~=needle", huge));
  EXPECT_TRUE(Eval("s!~=needle", huge));
}

TEST(QEvalTest, CombinesWithAndOrAndParentheses) {
  EXPECT_TRUE(Eval("pm25>150;status==\"active\""));
  EXPECT_FALSE(Eval("pm25>150;status==\"closed\""));
  EXPECT_TRUE(Eval("pm25>500|status==\"active\""));
  EXPECT_TRUE(Eval("pm25>500|pm10>200;congested==false"));
  EXPECT_FALSE(Eval("(pm25>500|pm10>200);congested==true"));
  EXPECT_TRUE(Eval("((pm25>500|pm10>200);(congested==false|status==\"x\"));!no2"));
  EXPECT_FALSE(Eval("pm25>500|pm10>300|status==\"closed\""));
}

TEST(QEvalTest, NonObjectEntitiesAndOddAttributesNeverMatch) {
  Query q = MustParse("pm25>1");
  EXPECT_FALSE(q.Matches(json::array()));
  EXPECT_FALSE(q.Matches(json("pm25")));
  EXPECT_FALSE(q.Matches(json()));
  EXPECT_FALSE(q.Matches(json{{"pm25", 5}}));                       // not an attribute object
  EXPECT_FALSE(q.Matches(json{{"pm25", {{"type", "Property"}}}}));  // no value
  EXPECT_TRUE(q.Matches(json{{"pm25", {{"value", 5}}}}));           // untyped: read by its member
  EXPECT_TRUE(q.Matches(json{{"pm25", json::array({json{{"type", "Property"}, {"value", 5}}, json(3)})}}));
  EXPECT_TRUE(MustParse("ref==urn:x:1").Matches(json{{"ref", {{"type", "Relationship"}, {"object", {"urn:x:1"}}}}}));
}

TEST(QEvalTest, IsSafeToShareAcrossThreadsAndCopies) {
  std::optional<Query> copy;
  {
    Query original = MustParse("status~=(?i)^ACT;pm25==100..200;tags==\"lake\"");
    copy = original;
  }
  const json entity = HoanKiemStation();
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) hits[t] += copy->Matches(entity) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int h : hits) EXPECT_EQ(h, 500);
}

TEST(QFuzzTest, RandomInputNeverCrashesAndPrintsBackStably) {
  // Deterministic pseudo-random strings over the grammar's characters.
  const std::string alphabet = "ab.[]();|=!<>~\",1-:TZ\\ 5e";
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const json entity = HoanKiemStation();
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    size_t len = next() % 24;
    for (size_t k = 0; k < len; ++k) q += alphabet[next() % alphabet.size()];
    auto r = Query::Parse(q);
    if (!r.ok()) {
      EXPECT_EQ(r.status().field(), "q");
      continue;
    }
    ++parsed;
    (void)r->Matches(entity);
    auto again = Query::Parse(r->ToString());
    ASSERT_TRUE(again.ok()) << q << " -> " << r->ToString() << ": " << again.status().message();
    EXPECT_EQ(again->ToString(), r->ToString()) << q;
    EXPECT_EQ(again->Matches(entity), r->Matches(entity)) << q;
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace tl::ngsild
