// Geo-queries of NGSI-LD (ETSI GS CIM 009, clause 4.10): GeoJSON geometries (RFC 7946), the georel,
// geometry and coordinates query parameters, and the evaluation of a georel between the query's
// geometry and an entity's.
//
// Contract:
// - Parsing validates: known type, coordinates nested as the type requires, positions of 2 or 3
//   numbers (altitude ignored), longitude in [-180, 180], latitude in [-90, 90], line strings of >= 2
//   positions, polygon rings closed with >= 4 positions, at most kMaxPositions positions. Errors are
//   InvalidArgument naming the field: "georel", "geometry", "coordinates" for the query parameters,
//   "<prefix>type" / "<prefix>coordinates" for a GeoJSON object.
// - Predicates follow the OGC simple-features meaning (as PostGIS): edges are straight lines in
//   longitude/latitude (RFC 7946 §3.1.1; no antimeridian cutting), a polygon's holes are outside it,
//   and within/contains need a common interior point (a point on a polygon's edge intersects it but is
//   not within it). Coordinates closer than about 1e-9 degrees (0.1 mm) are treated as equal.
// - Distances are in metres on a sphere of radius kEarthRadiusMetres (haversine); the distance of two
//   geometries is 0 when they intersect, else that between their nearest points (a point's distance to
//   a line or polygon edge, not only to its vertices).
// - Georel semantics, with the entity's geometry as the subject: within = the entity is within the
//   query geometry; contains = the entity contains it; near;maxDistance==d = distance <= d metres;
//   near;minDistance==d = distance >= d; intersects, disjoint, equals, overlaps are symmetric.
//
// Thread-safety: values and pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::ngsild {

inline constexpr double kEarthRadiusMetres = 6371008.8;  // IUGG mean radius
inline constexpr size_t kMaxPositions = 1000000;         // per geometry

struct Position {
  double lon = 0;  // degrees east
  double lat = 0;  // degrees north
  friend bool operator==(const Position&, const Position&) = default;
};

using LineString = std::vector<Position>;
using LinearRing = std::vector<Position>;  // closed: front() == back(), >= 4 positions
using Polygon = std::vector<LinearRing>;   // [0] the exterior ring, then the holes

enum class GeometryType { kPoint, kMultiPoint, kLineString, kMultiLineString, kPolygon, kMultiPolygon };

// One geometry; only the member of its type is filled (a Point or a LineString or a Polygon has one
// element in it).
struct Geometry {
  GeometryType type = GeometryType::kPoint;
  std::vector<Position> points;   // Point, MultiPoint
  std::vector<LineString> lines;  // LineString, MultiLineString
  std::vector<Polygon> polygons;  // Polygon, MultiPolygon

  int Dimension() const;  // 0 points, 1 lines, 2 polygons

  static Geometry Point(double lon, double lat);
};

struct BoundingBox {
  double min_lon = 0, min_lat = 0, max_lon = 0, max_lat = 0;

  bool Contains(Position p) const;
  bool Intersects(const BoundingBox& other) const;
  friend bool operator==(const BoundingBox&, const BoundingBox&) = default;
};

// "Point", "MultiPoint", ... (GeoJSON spelling, case-sensitive).
std::string_view GeometryTypeName(GeometryType type);
Result<GeometryType> ParseGeometryType(std::string_view name, std::string_view field = "geometry");

// A GeoJSON geometry object {"type": ..., "coordinates": ...} (a GeoProperty's value).
// `field_prefix` is prepended to the fields named in errors, e.g. "location.value.".
Result<Geometry> ParseGeometry(const nlohmann::json& geojson, std::string_view field_prefix = {});

// The `geometry` and `coordinates` query parameters (URL-decoded; coordinates is a JSON array).
Result<Geometry> ParseGeometryParameters(std::string_view geometry, std::string_view coordinates);

nlohmann::json ToGeoJson(const Geometry& geometry);

enum class GeoRelation { kNear, kWithin, kContains, kIntersects, kDisjoint, kEquals, kOverlaps };

struct Georel {
  GeoRelation relation = GeoRelation::kIntersects;
  std::optional<double> max_distance;  // near only, metres
  std::optional<double> min_distance;  // near only, metres

  std::string ToString() const;  // "near;maxDistance==2000"
};

// `near;maxDistance==2000`, `near;minDistance==100` (both may be given), `within`, `contains`,
// `intersects`, `disjoint`, `equals`, `overlaps`. Errors name the field "georel".
Result<Georel> ParseGeorel(std::string_view georel);

// The three parameters together.
struct GeoQuery {
  Georel georel;
  Geometry geometry;
};
Result<GeoQuery> ParseGeoQuery(std::string_view georel, std::string_view geometry, std::string_view coordinates);

// True when the entity's geometry stands in `georel` to the query's.
bool Matches(const Georel& georel, const Geometry& query_geometry, const Geometry& entity_geometry);

// Matches() on the GeoProperty `geoproperty` of a normalized entity (any instance of it); false when
// the entity has no such property or its value is not a valid geometry.
bool MatchesEntity(const GeoQuery& query, const nlohmann::json& entity, std::string_view geoproperty = "location");

// Metres between two positions (haversine).
double HaversineDistance(Position a, Position b);
// Metres between the nearest points of two geometries; 0 when they intersect.
double Distance(const Geometry& a, const Geometry& b);

// OGC predicates.
bool Intersects(const Geometry& a, const Geometry& b);
bool Covers(const Geometry& a, const Geometry& b);  // no point of b is outside a
bool Within(const Geometry& a, const Geometry& b);  // a within b
bool Contains(const Geometry& a, const Geometry& b);
bool Equals(const Geometry& a, const Geometry& b);  // the same point set
bool Overlaps(const Geometry& a, const Geometry& b);

BoundingBox BoundsOf(const Geometry& geometry);
// `box` grown by `metres` in every direction (a superset, for an index's near pre-filter); spans every
// longitude when it reaches a pole or the antimeridian.
BoundingBox ExpandBy(const BoundingBox& box, double metres);

// A point on the geometry (never outside it): the point itself, the MultiPoint's position nearest
// their mean, the middle of a line by length, a polygon's centroid when inside it, else a point inside
// it on a horizontal line (holes excluded); for multi-geometries, that of the longest / largest part.
Position RepresentativePoint(const Geometry& geometry);

}  // namespace tl::ngsild
