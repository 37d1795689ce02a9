#include "modules/ngsild/geo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace tl::ngsild {
namespace {

using nlohmann::json;

// Hà Nội landmarks (longitude, latitude).
constexpr Position kHoanKiemLake{105.8524, 21.0287};
constexpr Position kOperaHouse{105.8576, 21.0243};          // ~728 m from the lake
constexpr Position kCathedral{105.8489, 21.0287};           // ~363 m
constexpr Position kTempleOfLiterature{105.8355, 21.0285};  // ~1,754 m
constexpr Position kNoiBaiAirport{105.8072, 21.2187};       // ~21.6 km

Geometry G(std::string_view type, std::string_view coordinates) {
  auto g = ParseGeometryParameters(type, coordinates);
  EXPECT_TRUE(g.ok()) << type << " " << coordinates << ": " << g.status().ToString();
  return g.ok() ? *g : Geometry::Point(0, 0);
}

Geometry P(Position p) {
  return Geometry::Point(p.lon, p.lat);
}

// A square "ward" around the lake with the lake itself as a hole.
Geometry HoanKiemWardWithLakeHole() {
  return G("Polygon",
           "[[[105.840,21.015],[105.865,21.015],[105.865,21.040],[105.840,21.040],[105.840,21.015]],"
           " [[105.850,21.025],[105.855,21.025],[105.855,21.033],[105.850,21.033],[105.850,21.025]]]");
}

// The ETSI suite's probes: a 10x10 shell with a hole around (5, 5).
Geometry ShellWithHole() {
  return G("Polygon", "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]");
}

Georel Rel(std::string_view text) {
  auto r = ParseGeorel(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Georel{};
}

void ExpectGeometryError(std::string_view type, std::string_view coordinates, std::string_view field,
                         std::string_view message_part) {
  auto g = ParseGeometryParameters(type, coordinates);
  ASSERT_FALSE(g.ok()) << type << " " << coordinates;
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().field(), field) << g.status().message();
  EXPECT_NE(g.status().message().find(message_part), std::string::npos)
      << g.status().message() << " (expected '" << message_part << "')";
}

// The distance from p to segment ab by brute force (dense sampling of the straight lon/lat segment).
double BruteForceSegmentDistance(Position p, Position a, Position b) {
  double best = std::numeric_limits<double>::infinity();
  const int n = 200000;
  for (int i = 0; i <= n; ++i) {
    double t = static_cast<double>(i) / n;
    best = std::min(best, HaversineDistance(p, {a.lon + (b.lon - a.lon) * t, a.lat + (b.lat - a.lat) * t}));
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Parsing.

TEST(GeoParseTest, ParsesEveryGeometryType) {
  Geometry point = G("Point", "[105.8524,21.0287]");
  EXPECT_EQ(point.type, GeometryType::kPoint);
  ASSERT_EQ(point.points.size(), 1u);
  EXPECT_EQ(point.points[0], kHoanKiemLake);

  Geometry with_altitude = G("Point", "[105.8524,21.0287,12.5]");
  EXPECT_EQ(with_altitude.points[0], kHoanKiemLake);

  EXPECT_EQ(G("MultiPoint", "[[105.8524,21.0287],[105.8576,21.0243]]").points.size(), 2u);
  EXPECT_EQ(G("LineString", "[[105.84,21.02],[105.86,21.03],[105.87,21.03]]").lines.at(0).size(), 3u);
  EXPECT_EQ(G("MultiLineString", "[[[0,0],[1,1]],[[2,2],[3,3],[4,4]]]").lines.size(), 2u);
  Geometry ward = HoanKiemWardWithLakeHole();
  ASSERT_EQ(ward.polygons.size(), 1u);
  EXPECT_EQ(ward.polygons[0].size(), 2u);  // shell and hole
  EXPECT_EQ(G("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]").polygons.size(), 2u);
  EXPECT_EQ(ward.Dimension(), 2);
  EXPECT_EQ(point.Dimension(), 0);
}

TEST(GeoParseTest, ParsesGeoJsonObjectsAndWritesThemBack) {
  for (const char* text : {
           R"({"type":"Point","coordinates":[105.8524,21.0287]})",
           R"({"type":"MultiPoint","coordinates":[[105.8524,21.0287],[105.8576,21.0243]]})",
           R"({"type":"LineString","coordinates":[[105.84,21.02],[105.86,21.03]]})",
           R"({"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3]]]})",
           R"({"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]})",
           R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]})",
       }) {
    json in = json::parse(text);
    auto g = ParseGeometry(in);
    ASSERT_TRUE(g.ok()) << text << ": " << g.status().ToString();
    EXPECT_EQ(ToGeoJson(*g), in) << text;
  }
  // The ETSI suite's building-location-polygon value.
  json berlin = json::parse(R"({"type":"Polygon","coordinates":[[[13.2865906,52.5648645],[13.2879639,52.5648645],
      [13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]})");
  EXPECT_TRUE(ParseGeometry(berlin).ok());
}

TEST(GeoParseTest, RejectsBadGeometryParameters) {
  ExpectGeometryError("Circle", "[0,0]", "geometry", "unsupported geometry type 'Circle'");
  ExpectGeometryError("point", "[0,0]", "geometry", "unsupported");
  ExpectGeometryError("GeometryCollection", "[]", "geometry", "unsupported");
  ExpectGeometryError("", "[0,0]", "geometry", "required");
  ExpectGeometryError("Point", "", "coordinates", "required");
  ExpectGeometryError("Point", "[105.85,", "coordinates", "not a valid JSON array");
  ExpectGeometryError("Point", "105.85,21.02", "coordinates", "not a valid JSON");
  ExpectGeometryError("Point", "{\"lon\":1}", "coordinates", "expected a position");
  ExpectGeometryError("Point", "[105.85]", "coordinates", "2 or 3 numbers");
  ExpectGeometryError("Point", "[1,2,3,4]", "coordinates", "2 or 3 numbers");
  ExpectGeometryError("Point", "[\"105.85\",21.02]", "coordinates", "coordinates[0]: expected a number");
  ExpectGeometryError("Point", "[181,21]", "coordinates", "longitude 181 is outside [-180, 180]");
  ExpectGeometryError("Point", "[-180.5,21]", "coordinates", "longitude");
  ExpectGeometryError("Point", "[105.85,-91]", "coordinates", "latitude -91 is outside [-90, 90]");
  ExpectGeometryError("Point", "[21.0287,105.8524]", "coordinates", "latitude 105.8524");  // swapped
  ExpectGeometryError("Point", "[[105.85,21.02]]", "coordinates", "2 or 3 numbers");
  ExpectGeometryError("MultiPoint", "[]", "coordinates", "at least one position");
  ExpectGeometryError("MultiPoint", "[[0,0],[0,95]]", "coordinates", "coordinates[1][1]: latitude 95");
  ExpectGeometryError("LineString", "[[0,0]]", "coordinates", "at least 2 positions");
  ExpectGeometryError("LineString", "[0,0]", "coordinates", "expected a position");
  ExpectGeometryError("MultiLineString", "[[[0,0],[1,1]],[[2,2]]]", "coordinates", "coordinates[1]: a line string");
  ExpectGeometryError("Polygon", "[]", "coordinates", "exterior ring");
  ExpectGeometryError("Polygon", "[[[0,0],[1,0],[0,0]]]", "coordinates", "at least 4 positions");
  ExpectGeometryError("Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "coordinates", "must be closed");
  ExpectGeometryError("Polygon", "[[[0,0],[10,0],[10,10],[0,0]],[[1,1],[2,1],[2,2],[1,2]]]", "coordinates",
                      "coordinates[1]: a linear ring must be closed");
  ExpectGeometryError("Polygon", "[[0,0],[1,0],[1,1],[0,0]]", "coordinates", "coordinates[0]: a linear ring");
  ExpectGeometryError("MultiPolygon", "[[[0,0],[1,0],[1,1],[0,0]]]", "coordinates", "coordinates[0][0]: a linear ring");
  ExpectGeometryError("MultiPolygon", "[]", "coordinates", "at least one polygon");
}

TEST(GeoParseTest, NamesFieldsOfGeoJsonObjects) {
  auto not_object = ParseGeometry(json::array({1, 2}), "location.value.");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.status().field(), "location.value");
  auto no_type = ParseGeometry(json{{"coordinates", {1, 2}}});
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.status().field(), "type");
  auto bad_type = ParseGeometry(json{{"type", 5}, {"coordinates", {1, 2}}}, "location.value.");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().field(), "location.value.type");
  auto no_coordinates = ParseGeometry(json{{"type", "Point"}});
  ASSERT_FALSE(no_coordinates.ok());
  EXPECT_EQ(no_coordinates.status().field(), "coordinates");
  auto out_of_range = ParseGeometry(json::parse(R"({"type":"Point","coordinates":[200,0]})"), "location.value.");
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().field(), "location.value.coordinates");
  EXPECT_EQ(ParseGeometry(json("Point")).status().field(), "geometry");
}

TEST(GeoParseTest, ParsesGeorels) {
  Georel near = Rel("near;maxDistance==2000");
  EXPECT_EQ(near.relation, GeoRelation::kNear);
  EXPECT_EQ(near.max_distance, 2000);
  EXPECT_FALSE(near.min_distance.has_value());
  EXPECT_EQ(near.ToString(), "near;maxDistance==2000");

  Georel far = Rel("near;minDistance==100.5");
  EXPECT_EQ(far.min_distance, 100.5);
  EXPECT_EQ(far.ToString(), "near;minDistance==100.5");

  Georel ring = Rel("near;minDistance==100;maxDistance==2000");
  EXPECT_EQ(ring.min_distance, 100);
  EXPECT_EQ(ring.max_distance, 2000);

  const std::pair<const char*, GeoRelation> names[] = {
      {"within", GeoRelation::kWithin},         {"contains", GeoRelation::kContains},
      {"intersects", GeoRelation::kIntersects}, {"disjoint", GeoRelation::kDisjoint},
      {"equals", GeoRelation::kEquals},         {"overlaps", GeoRelation::kOverlaps},
  };
  for (const auto& [text, relation] : names) {
    EXPECT_EQ(Rel(text).relation, relation) << text;
    EXPECT_EQ(Rel(text).ToString(), text);
  }
}

TEST(GeoParseTest, RejectsBadGeorels) {
  for (std::string_view text :
       {"", "near", "near;", "nearby", "Near;maxDistance==10", "near;maxDistance=2000",
        "near;maxDistance==", "near;maxDistance==-1", "near;maxDistance==abc", "near;maxDistance==1e999",
        "near;maxDistance==10m", "near;distance==10", "near;maxDistance==10;maxDistance==20",
        "near;minDistance==500;maxDistance==100", "within;maxDistance==5", "within;", "intersects;x", " within"}) {
    auto r = ParseGeorel(text);
    ASSERT_FALSE(r.ok()) << "accepted: '" << text << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(r.status().field(), "georel") << text;
  }
}

TEST(GeoParseTest, ParsesAWholeGeoQueryNamingTheBadParameter) {
  auto q = ParseGeoQuery("near;maxDistance==1000", "Point", "[105.8524,21.0287]");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->geometry.points.at(0), kHoanKiemLake);
  EXPECT_EQ(ParseGeoQuery("nearish", "Point", "[0,0]").status().field(), "georel");
  EXPECT_EQ(ParseGeoQuery("within", "Pointy", "[0,0]").status().field(), "geometry");
  EXPECT_EQ(ParseGeoQuery("within", "Point", "[0,0").status().field(), "coordinates");
}

// ---------------------------------------------------------------------------------------------------
// Distances.

TEST(GeoDistanceTest, HaversineOnHanoiLandmarks) {
  EXPECT_NEAR(HaversineDistance({0, 0}, {0, 1}), 111195.08, 0.01);
  EXPECT_NEAR(HaversineDistance(kHoanKiemLake, kOperaHouse), 728.47, 0.05);
  EXPECT_NEAR(HaversineDistance(kHoanKiemLake, kCathedral), 363.26, 0.05);
  EXPECT_NEAR(HaversineDistance(kHoanKiemLake, kTempleOfLiterature), 1754.19, 0.05);
  EXPECT_NEAR(HaversineDistance(kHoanKiemLake, kNoiBaiAirport), 21641.0, 0.5);
  EXPECT_EQ(HaversineDistance(kHoanKiemLake, kHoanKiemLake), 0);
  EXPECT_NEAR(HaversineDistance({179.9, 0}, {-179.9, 0}), HaversineDistance({0, 0}, {0.2, 0}), 1e-6);
  EXPECT_NEAR(HaversineDistance({0, 0}, {180, 0}), kEarthRadiusMetres * 3.14159265358979323846, 1e-3);
}

TEST(GeoDistanceTest, MeasuresToTheNearestPointOfALineNotItsVertices) {
  // A road along longitude 105.85 from 21.00 to 21.05 N; a point 0.01 degree east of it.
  Geometry road = G("LineString", "[[105.85,21.00],[105.85,21.05]]");
  Geometry point = P({105.86, 21.02});
  EXPECT_NEAR(Distance(point, road), 1037.96, 0.5);
  EXPECT_NEAR(Distance(road, point), 1037.96, 0.5);
  EXPECT_TRUE(Matches(Rel("near;maxDistance==1100"), point, road));
  EXPECT_FALSE(Matches(Rel("near;maxDistance==1000"), point, road));
  EXPECT_TRUE(Matches(Rel("near;minDistance==1000"), point, road));
  // Beyond the end, the nearest point is the end vertex.
  EXPECT_NEAR(Distance(P({105.85, 21.06}), road), HaversineDistance({105.85, 21.06}, {105.85, 21.05}), 0.01);
}

TEST(GeoDistanceTest, AgreesWithBruteForceOnLongAndHighLatitudeSegments) {
  const struct {
    Position p, a, b;
  } cases[] = {
      {{105.86, 21.02}, {105.80, 21.00}, {105.90, 21.06}},
      {{0.0, 85.0}, {0.0, 85.6}, {1.0, 85.0}},  // the suite's high-latitude probe line
      {{0.5, 86.0}, {0.0, 85.6}, {1.0, 85.0}},
      {{10.0, 40.0}, {-20.0, 30.0}, {40.0, 50.0}},  // a 60-degree segment
      {{100.0, -10.0}, {90.0, -20.0}, {120.0, 5.0}},
      {{-70.0, 60.0}, {-80.0, 61.0}, {-60.0, 59.0}},
  };
  for (const auto& c : cases) {
    Geometry line;
    line.type = GeometryType::kLineString;
    line.lines = {{c.a, c.b}};
    double expected = BruteForceSegmentDistance(c.p, c.a, c.b);
    double actual = Distance(P(c.p), line);
    EXPECT_NEAR(actual, expected, std::max(1.0, expected * 1e-4)) << c.p.lon << "," << c.p.lat;
  }
}

TEST(GeoDistanceTest, IsZeroInsideAPolygonAndToTheEdgeOutside) {
  Geometry ward = HoanKiemWardWithLakeHole();
  EXPECT_EQ(Distance(P({105.842, 21.017}), ward), 0);
  // Inside the hole (the lake): outside the polygon, about 0.002 degree from the hole's west edge.
  double in_lake = Distance(P({105.852, 21.029}), ward);
  EXPECT_NEAR(in_lake, 0.002 * 111195.08 * std::cos(21.029 * 3.14159265358979323846 / 180), 1.0);
  // East of the ward: 0.005 degree of longitude from its east edge.
  EXPECT_NEAR(Distance(P({105.870, 21.030}), ward), 0.005 * 111195.08 * std::cos(21.03 * 3.14159265358979323846 / 180),
              1.0);
  EXPECT_TRUE(Matches(Rel("near;maxDistance==1"), P({105.842, 21.017}), ward));
}

TEST(GeoDistanceTest, NearOnHanoiLandmarks) {
  Geometry lake = P(kHoanKiemLake);
  Georel within_1km = Rel("near;maxDistance==1000");
  EXPECT_TRUE(Matches(within_1km, lake, P(kOperaHouse)));
  EXPECT_TRUE(Matches(within_1km, lake, P(kCathedral)));
  EXPECT_FALSE(Matches(within_1km, lake, P(kTempleOfLiterature)));
  EXPECT_FALSE(Matches(within_1km, lake, P(kNoiBaiAirport)));
  EXPECT_TRUE(Matches(Rel("near;maxDistance==2000"), lake, P(kTempleOfLiterature)));
  EXPECT_TRUE(Matches(Rel("near;minDistance==20000"), lake, P(kNoiBaiAirport)));
  EXPECT_FALSE(Matches(Rel("near;minDistance==20000"), lake, P(kOperaHouse)));
  EXPECT_TRUE(Matches(Rel("near;minDistance==500;maxDistance==1000"), lake, P(kOperaHouse)));
  EXPECT_FALSE(Matches(Rel("near;minDistance==500;maxDistance==1000"), lake, P(kCathedral)));
  EXPECT_TRUE(Matches(Rel("near;maxDistance==0"), lake, lake));
  // A MultiPoint entity is near when its nearest point is.
  EXPECT_TRUE(Matches(within_1km, lake, G("MultiPoint", "[[105.8072,21.2187],[105.8576,21.0243]]")));
}

TEST(GeoDistanceTest, NearAtTheEdgeOfTheDistanceAtHighLatitude) {
  // The suite's east probe is 0.009 degree north of (10, 60): 1,000.76 m.
  Geometry origin = P({10.0, 60.0});
  Geometry probe = P({10.0, 60.009});
  EXPECT_FALSE(Matches(Rel("near;maxDistance==1000"), origin, probe));
  EXPECT_TRUE(Matches(Rel("near;maxDistance==1001"), origin, probe));
  EXPECT_TRUE(Matches(Rel("near;minDistance==1000"), origin, probe));
}

// ---------------------------------------------------------------------------------------------------
// Predicates.

TEST(GeoPredicateTest, PointInPolygonExcludesHoles) {
  Geometry shell = ShellWithHole();
  Geometry shell_probe = P({2, 2});
  Geometry hole_probe = P({5, 5});
  EXPECT_TRUE(Matches(Rel("within"), shell, shell_probe));
  EXPECT_FALSE(Matches(Rel("within"), shell, hole_probe));
  EXPECT_TRUE(Matches(Rel("disjoint"), shell, hole_probe));
  EXPECT_TRUE(Matches(Rel("intersects"), shell, shell_probe));
  EXPECT_FALSE(Matches(Rel("within"), shell, P({11, 5})));
  EXPECT_TRUE(Matches(Rel("contains"), shell_probe, shell));  // the entity (polygon) contains the point

  Geometry ward = HoanKiemWardWithLakeHole();
  EXPECT_FALSE(Within(P(kHoanKiemLake), ward));  // in the lake
  EXPECT_TRUE(Within(P(kOperaHouse), ward));
  EXPECT_TRUE(Within(P(kCathedral), ward));
  EXPECT_FALSE(Within(P(kTempleOfLiterature), ward));
}

TEST(GeoPredicateTest, BoundaryPointsIntersectButAreNotWithin) {
  Geometry shell = ShellWithHole();
  for (Position p : {Position{0, 5}, Position{10, 10}, Position{4, 5}, Position{5, 6}}) {
    EXPECT_TRUE(Intersects(P(p), shell)) << p.lon << "," << p.lat;
    EXPECT_FALSE(Within(P(p), shell)) << p.lon << "," << p.lat;
    EXPECT_TRUE(Covers(shell, P(p))) << p.lon << "," << p.lat;
  }
  // A line string's end points are its boundary; its middle is its interior.
  Geometry line = G("LineString", "[[0,0],[2,0]]");
  EXPECT_FALSE(Within(P({0, 0}), line));
  EXPECT_TRUE(Within(P({1, 0}), line));
  EXPECT_TRUE(Intersects(P({0, 0}), line));
}

TEST(GeoPredicateTest, LinesAndPolygons) {
  Geometry square = G("Polygon", "[[[0,0],[4,0],[4,4],[0,4],[0,0]]]");
  Geometry inside = G("LineString", "[[1,1],[3,3]]");
  Geometry crossing = G("LineString", "[[-1,2],[5,2]]");  // no vertex inside, but passes through
  Geometry touching = G("LineString", "[[1,1],[0,2]]");   // inside, ends on the edge
  Geometry along_edge = G("LineString", "[[0,0],[4,0]]");
  Geometry outside = G("LineString", "[[5,5],[6,6]]");
  EXPECT_TRUE(Within(inside, square));
  EXPECT_TRUE(Contains(square, inside));
  EXPECT_FALSE(Within(crossing, square));
  EXPECT_TRUE(Intersects(crossing, square));
  EXPECT_TRUE(Within(touching, square));
  EXPECT_FALSE(Within(along_edge, square));  // only on the boundary: no interior in common
  EXPECT_TRUE(Intersects(along_edge, square));
  EXPECT_TRUE(Covers(square, along_edge));
  EXPECT_FALSE(Intersects(outside, square));
  EXPECT_TRUE(Matches(Rel("disjoint"), square, outside));

  // A line crossing the lake hole is not within the ward; one along the shore is.
  Geometry ward = HoanKiemWardWithLakeHole();
  EXPECT_FALSE(Within(G("LineString", "[[105.845,21.029],[105.860,21.029]]"), ward));
  EXPECT_TRUE(Within(G("LineString", "[[105.845,21.020],[105.860,21.020]]"), ward));
}

TEST(GeoPredicateTest, PolygonsWithinPolygons) {
  Geometry big = G("Polygon", "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]");
  Geometry small = G("Polygon", "[[[1,1],[3,1],[3,3],[1,3],[1,1]]]");
  Geometry around_hole = G("Polygon", "[[[3,3],[7,3],[7,7],[3,7],[3,3]]]");
  Geometry shell = ShellWithHole();
  EXPECT_TRUE(Within(small, big));
  EXPECT_TRUE(Contains(big, small));
  EXPECT_FALSE(Within(big, small));
  EXPECT_TRUE(Within(small, shell));
  EXPECT_FALSE(Within(around_hole, shell));  // its edges are in the shell but the hole is inside it
  EXPECT_TRUE(Intersects(around_hole, shell));
  EXPECT_TRUE(Within(big, big));
  EXPECT_TRUE(Within(shell, big));
  EXPECT_FALSE(Within(big, shell));
  // Non-convex: a U shape does not contain the square in its notch.
  Geometry u = G("Polygon", "[[[0,0],[6,0],[6,6],[4,6],[4,2],[2,2],[2,6],[0,6],[0,0]]]");
  Geometry notch = G("Polygon", "[[[2.5,3],[3.5,3],[3.5,5],[2.5,5],[2.5,3]]]");
  EXPECT_FALSE(Intersects(notch, u));
  EXPECT_FALSE(Within(G("Polygon", "[[[1,1],[5,1],[5,5],[1,5],[1,1]]]"), u));
}

TEST(GeoPredicateTest, SegmentsIntersect) {
  Geometry a = G("LineString", "[[0,0],[2,2]]");
  EXPECT_TRUE(Intersects(a, G("LineString", "[[0,2],[2,0]]")));   // X
  EXPECT_TRUE(Intersects(a, G("LineString", "[[2,2],[3,0]]")));   // shares an end
  EXPECT_TRUE(Intersects(a, G("LineString", "[[1,1],[1,5]]")));   // T
  EXPECT_TRUE(Intersects(a, G("LineString", "[[1,1],[3,3]]")));   // collinear overlap
  EXPECT_FALSE(Intersects(a, G("LineString", "[[0,1],[2,3]]")));  // parallel
  EXPECT_FALSE(Intersects(a, G("LineString", "[[3,3],[4,4]]")));  // collinear, apart
  EXPECT_FALSE(Intersects(a, G("LineString", "[[1.5,1],[3,0]]")));
  EXPECT_TRUE(Intersects(G("MultiPoint", "[[9,9],[1,1]]"), a));
  EXPECT_FALSE(Intersects(G("MultiPoint", "[[9,9],[1,1.1]]"), a));
  // Streets of the old quarter: Hàng Bạc crosses Hàng Đào; Hàng Bạc does not reach Tràng Tiền.
  Geometry hang_dao = G("LineString", "[[105.8510,21.0300],[105.8513,21.0355]]");
  Geometry hang_bac = G("LineString", "[[105.8490,21.0340],[105.8550,21.0342]]");
  Geometry trang_tien = G("LineString", "[[105.8530,21.0250],[105.8580,21.0240]]");
  EXPECT_TRUE(Intersects(hang_dao, hang_bac));
  EXPECT_FALSE(Intersects(hang_bac, trang_tien));
  EXPECT_TRUE(Matches(Rel("disjoint"), hang_bac, trang_tien));
}

TEST(GeoPredicateTest, Equals) {
  Geometry square = G("Polygon", "[[[0,0],[4,0],[4,4],[0,4],[0,0]]]");
  Geometry rotated = G("Polygon", "[[[4,4],[0,4],[0,0],[4,0],[4,4]]]");  // other start, other direction
  Geometry with_extra_vertex = G("Polygon", "[[[0,0],[2,0],[4,0],[4,4],[0,4],[0,0]]]");
  EXPECT_TRUE(Equals(square, rotated));
  EXPECT_TRUE(Equals(square, with_extra_vertex));
  EXPECT_TRUE(Matches(Rel("equals"), square, rotated));
  EXPECT_FALSE(Equals(square, G("Polygon", "[[[0,0],[4,0],[4,4.001],[0,4],[0,0]]]")));
  EXPECT_FALSE(Equals(square, ShellWithHole()));
  EXPECT_TRUE(Equals(G("LineString", "[[0,0],[1,1],[2,2]]"), G("LineString", "[[2,2],[0,0]]")));
  EXPECT_TRUE(Equals(P(kHoanKiemLake), G("MultiPoint", "[[105.8524,21.0287],[105.8524,21.0287]]")));
  EXPECT_FALSE(Equals(P(kHoanKiemLake), P(kCathedral)));
  EXPECT_FALSE(Equals(P({1, 1}), G("LineString", "[[1,1],[1,1]]")));  // different dimensions
}

TEST(GeoPredicateTest, Overlaps) {
  Geometry a = G("Polygon", "[[[0,0],[4,0],[4,4],[0,4],[0,0]]]");
  Geometry b = G("Polygon", "[[[2,2],[6,2],[6,6],[2,6],[2,2]]]");
  Geometry inner = G("Polygon", "[[[1,1],[2,1],[2,2],[1,2],[1,1]]]");
  Geometry neighbour = G("Polygon", "[[[4,0],[8,0],[8,4],[4,4],[4,0]]]");  // shares an edge only
  EXPECT_TRUE(Overlaps(a, b));
  EXPECT_TRUE(Matches(Rel("overlaps"), a, b));
  EXPECT_FALSE(Overlaps(a, inner));  // contained
  EXPECT_FALSE(Overlaps(a, neighbour));
  EXPECT_TRUE(Intersects(a, neighbour));
  EXPECT_FALSE(Overlaps(a, a));
  EXPECT_FALSE(Overlaps(a, G("Polygon", "[[[10,10],[11,10],[11,11],[10,10]]]")));
  EXPECT_FALSE(Overlaps(a, G("LineString", "[[1,1],[9,9]]")));  // different dimensions
  // Lines overlap when they share a stretch, not when they only cross.
  Geometry l1 = G("LineString", "[[0,0],[4,0]]");
  EXPECT_TRUE(Overlaps(l1, G("LineString", "[[2,0],[6,0]]")));
  EXPECT_FALSE(Overlaps(l1, G("LineString", "[[2,-1],[2,1]]")));
  EXPECT_FALSE(Overlaps(l1, G("LineString", "[[1,0],[3,0]]")));
  // Point sets overlap when they share some points but not all.
  EXPECT_TRUE(Overlaps(G("MultiPoint", "[[0,0],[1,1]]"), G("MultiPoint", "[[1,1],[2,2]]")));
  EXPECT_FALSE(Overlaps(G("MultiPoint", "[[0,0],[1,1]]"), G("MultiPoint", "[[0,0],[1,1]]")));
}

TEST(GeoPredicateTest, MultiPolygons) {
  Geometry districts = G("MultiPolygon",
                         "[[[[105.84,21.02],[105.86,21.02],[105.86,21.04],[105.84,21.04],[105.84,21.02]]],"
                         " [[[105.80,21.05],[105.83,21.05],[105.83,21.08],[105.80,21.08],[105.80,21.05]]]]");
  EXPECT_TRUE(Within(P(kHoanKiemLake), districts));
  EXPECT_TRUE(Within(P({105.81, 21.06}), districts));
  EXPECT_FALSE(Within(P(kNoiBaiAirport), districts));
  EXPECT_FALSE(Within(G("LineString", "[[105.85,21.03],[105.81,21.06]]"), districts));  // leaves both
  EXPECT_TRUE(Intersects(G("LineString", "[[105.85,21.03],[105.81,21.06]]"), districts));
  EXPECT_NEAR(Distance(P({105.85, 21.045}), districts), HaversineDistance({105.85, 21.045}, {105.85, 21.04}), 1.0);
}

// ---------------------------------------------------------------------------------------------------
// Boxes, representative points, entities.

TEST(GeoBoxTest, BoundsEveryType) {
  EXPECT_EQ(BoundsOf(P(kHoanKiemLake)), (BoundingBox{105.8524, 21.0287, 105.8524, 21.0287}));
  EXPECT_EQ(BoundsOf(G("LineString", "[[105.84,21.02],[105.86,21.03],[105.83,21.01]]")),
            (BoundingBox{105.83, 21.01, 105.86, 21.03}));
  EXPECT_EQ(BoundsOf(ShellWithHole()), (BoundingBox{0, 0, 10, 10}));
  EXPECT_EQ(BoundsOf(G("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,-6],[5,5]]]]")),
            (BoundingBox{0, -6, 6, 5}));
  BoundingBox box{0, 0, 10, 10};
  EXPECT_TRUE(box.Contains({5, 5}));
  EXPECT_TRUE(box.Contains({10, 0}));
  EXPECT_FALSE(box.Contains({10.1, 0}));
  EXPECT_TRUE(box.Intersects({10, 10, 12, 12}));
  EXPECT_FALSE(box.Intersects({10.5, 0, 12, 12}));
}

TEST(GeoBoxTest, ExpandsByMetresConservatively) {
  BoundingBox lake = BoundsOf(P(kHoanKiemLake));
  BoundingBox km = ExpandBy(lake, 1000);
  EXPECT_NEAR(km.max_lat - kHoanKiemLake.lat, 1000 / 111195.08, 1e-7);
  EXPECT_GT(km.max_lon - kHoanKiemLake.lon, km.max_lat - kHoanKiemLake.lat);  // longitude degrees are shorter
  // Every point within 1 km (sampled around a circle) is inside the box.
  for (int deg = 0; deg < 360; deg += 5) {
    double b = deg * 3.14159265358979323846 / 180;
    double dlat = 999.0 / 111195.08 * std::cos(b);
    double dlon = 999.0 / 111195.08 * std::sin(b) / std::cos(kHoanKiemLake.lat * 3.14159265358979323846 / 180);
    Position p{kHoanKiemLake.lon + dlon, kHoanKiemLake.lat + dlat};
    ASSERT_LT(HaversineDistance(p, kHoanKiemLake), 1000);
    EXPECT_TRUE(km.Contains(p)) << deg;
  }
  EXPECT_TRUE(km.Contains(kOperaHouse));
  EXPECT_FALSE(km.Contains(kTempleOfLiterature));
  // Near a pole or across the antimeridian every longitude is in.
  BoundingBox polar = ExpandBy(BoundsOf(P({10, 89.99})), 5000);
  EXPECT_EQ(polar.min_lon, -180);
  EXPECT_EQ(polar.max_lon, 180);
  EXPECT_EQ(polar.max_lat, 90);
  BoundingBox fiji = ExpandBy(BoundsOf(P({179.99, -17})), 5000);
  EXPECT_EQ(fiji.min_lon, -180);
  EXPECT_TRUE(ExpandBy(lake, 0).Contains(kHoanKiemLake));
}

TEST(GeoRepresentativePointTest, LiesOnTheGeometry) {
  EXPECT_EQ(RepresentativePoint(P(kHoanKiemLake)), kHoanKiemLake);
  EXPECT_EQ(RepresentativePoint(G("MultiPoint", "[[0,0],[1,1],[10,10]]")), (Position{1, 1}));

  Position mid = RepresentativePoint(G("LineString", "[[0,0],[0,1],[0,3]]"));
  EXPECT_NEAR(mid.lon, 0, 1e-12);
  EXPECT_NEAR(mid.lat, 1.5, 1e-6);
  // The longest part of a MultiLineString.
  Position longest = RepresentativePoint(G("MultiLineString", "[[[0,0],[0,1]],[[5,0],[5,4]]]"));
  EXPECT_NEAR(longest.lon, 5, 1e-12);

  Geometry square = G("Polygon", "[[[0,0],[4,0],[4,4],[0,4],[0,0]]]");
  Position c = RepresentativePoint(square);
  EXPECT_NEAR(c.lon, 2, 1e-12);
  EXPECT_NEAR(c.lat, 2, 1e-12);

  // Shapes whose centroid is outside them.
  Geometry u = G("Polygon", "[[[0,0],[6,0],[6,6],[4,6],[4,2],[2,2],[2,6],[0,6],[0,0]]]");
  Geometry donut = ShellWithHole();
  Geometry ward = HoanKiemWardWithLakeHole();
  Geometry crescent = G("Polygon", "[[[0,0],[10,0],[10,10],[0,10],[0,9],[9,9],[9,1],[0,1],[0,0]]]");
  for (const Geometry* g : {&u, &donut, &ward, &crescent}) {
    Position r = RepresentativePoint(*g);
    EXPECT_TRUE(Within(P(r), *g)) << r.lon << "," << r.lat;
  }
  Geometry multi = G("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[9,5],[9,9],[5,9],[5,5]]]]");
  Position m = RepresentativePoint(multi);
  EXPECT_NEAR(m.lon, 7, 1e-12);
  EXPECT_NEAR(m.lat, 7, 1e-12);
}

TEST(GeoEntityTest, MatchesAnEntitysGeoProperty) {
  json station = json::parse(R"({
    "id": "urn:ngsi-ld:AirQualityObserved:HN-HoanKiem-001", "type": "AirQualityObserved",
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.8576, 21.0243]}},
    "observationSpace": {"type": "GeoProperty",
      "value": {"type": "Polygon", "coordinates": [[[105.85,21.02],[105.86,21.02],[105.86,21.03],[105.85,21.02]]]}}
  })");
  auto near = ParseGeoQuery("near;maxDistance==1000", "Point", "[105.8524,21.0287]");
  ASSERT_TRUE(near.ok());
  EXPECT_TRUE(MatchesEntity(*near, station));
  auto far = ParseGeoQuery("near;maxDistance==500", "Point", "[105.8524,21.0287]");
  EXPECT_FALSE(MatchesEntity(*far, station));
  auto intersects = ParseGeoQuery("intersects", "Point", "[105.858,21.022]");
  EXPECT_TRUE(MatchesEntity(*intersects, station, "observationSpace"));
  EXPECT_FALSE(MatchesEntity(*intersects, station));
  EXPECT_FALSE(MatchesEntity(*near, station, "operationSpace"));  // absent
  EXPECT_FALSE(MatchesEntity(*near, json::array()));

  json broken = {{"location", {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {200, 0}}}}}}};
  EXPECT_FALSE(MatchesEntity(*near, broken));

  json multi = json::parse(R"({"location": [
    {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.8072, 21.2187]}},
    {"type": "GeoProperty", "datasetId": "urn:ngsi-ld:gps", "value": {"type": "Point", "coordinates": [105.8489, 21.0287]}}
  ]})");
  EXPECT_TRUE(MatchesEntity(*near, multi));
}

TEST(GeoPerformanceTest, LargePolygonsStayFast) {
  // A 2,000-vertex circle of radius ~1 km around the lake.
  std::string ring = "[[";
  const int n = 2000;
  for (int i = 0; i <= n; ++i) {
    double a = 2 * 3.14159265358979323846 * (i % n) / n;
    ring += (i ? ",[" : "[") + std::to_string(kHoanKiemLake.lon + 0.0096 * std::cos(a)) + "," +
            std::to_string(kHoanKiemLake.lat + 0.009 * std::sin(a)) + "]";
  }
  ring += "]]";
  Geometry circle = G("Polygon", ring);
  EXPECT_TRUE(Within(P(kHoanKiemLake), circle));
  EXPECT_TRUE(Within(P(kCathedral), circle));
  EXPECT_FALSE(Within(P(kTempleOfLiterature), circle));
  EXPECT_TRUE(Matches(Rel("near;maxDistance==1000"), circle, P(kTempleOfLiterature)));
  EXPECT_TRUE(Intersects(circle, G("LineString", "[[105.80,21.0287],[105.90,21.0287]]")));
  EXPECT_TRUE(Equals(circle, circle));
}

TEST(GeoPropertyTest, PredicatesAgreeWithEachOther) {
  // Small geometries on an integer grid: many shared vertices, touching edges and collinear overlaps.
  uint64_t state = 0x2545F4914F6CDD1Dull;
  auto next = [&state](int n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<double>(state % n);
  };
  auto random_geometry = [&]() {
    switch (static_cast<int>(next(5))) {
      case 0:
        return Geometry::Point(next(6), next(6));
      case 1: {
        Geometry g;
        g.type = GeometryType::kLineString;
        g.lines = {{{next(6), next(6)}, {next(6), next(6)}, {next(6), next(6)}}};
        return g;
      }
      case 2: {
        Geometry g;
        g.type = GeometryType::kMultiPoint;
        g.points = {{next(6), next(6)}, {next(6), next(6)}};
        return g;
      }
      default: {
        double x = next(5), y = next(5), w = 1 + next(3), h = 1 + next(3);
        Geometry g;
        g.type = GeometryType::kPolygon;
        g.polygons = {{{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}, {x, y}}}};
        return g;
      }
    }
  };
  for (int i = 0; i < 3000; ++i) {
    Geometry a = random_geometry(), b = random_geometry();
    std::string what = ToGeoJson(a).dump() + " / " + ToGeoJson(b).dump();
    bool intersects = Intersects(a, b);
    ASSERT_EQ(intersects, Intersects(b, a)) << what;
    ASSERT_EQ(Within(a, b), Contains(b, a)) << what;
    ASSERT_EQ(Overlaps(a, b), Overlaps(b, a)) << what;
    ASSERT_EQ(Equals(a, b), Equals(b, a)) << what;
    if (Within(a, b)) {
      ASSERT_TRUE(intersects) << what;
      ASSERT_TRUE(Covers(b, a)) << what;
      ASSERT_FALSE(Overlaps(a, b)) << what;
    }
    if (Equals(a, b)) {
      ASSERT_TRUE(Covers(a, b) && Covers(b, a)) << what;
    }
    double d = Distance(a, b);
    ASSERT_EQ(d == 0, intersects) << what << " d=" << d;
    ASSERT_NEAR(d, Distance(b, a), 1e-6) << what;
    ASSERT_TRUE(Equals(a, a)) << what;
    ASSERT_TRUE(Covers(a, a)) << what;
    ASSERT_TRUE(Intersects(a, a)) << what;
    ASSERT_TRUE(Covers(a, P(RepresentativePoint(a)))) << what;
  }
}

}  // namespace
}  // namespace tl::ngsild
