#include "modules/ngsild/geo.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace tl::ngsild {

using nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEps = 1e-9;  // degrees: positions this close are one (about 0.1 mm)

double Radians(double degrees) {
  return degrees * kPi / 180.0;
}
double Degrees(double radians) {
  return radians * 180.0 / kPi;
}

// ---------------------------------------------------------------------------------------------------
// Planar primitives in longitude/latitude.

struct Segment {
  Position a, b;
};

bool SamePosition(Position p, Position q) {
  return std::abs(p.lon - q.lon) <= kEps && std::abs(p.lat - q.lat) <= kEps;
}

double Cross(Position o, Position a, Position b) {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

double PlanarLength(Position a, Position b) {
  return std::hypot(b.lon - a.lon, b.lat - a.lat);
}

bool IsDegenerate(const Segment& s) {
  return PlanarLength(s.a, s.b) <= kEps;
}

Position Lerp(Position a, Position b, double t) {
  return {a.lon + (b.lon - a.lon) * t, a.lat + (b.lat - a.lat) * t};
}

// Parameter in [0, 1] of the point of segment ab nearest to p.
double ProjectParam(Position p, Position a, Position b) {
  double dx = b.lon - a.lon, dy = b.lat - a.lat;
  double len2 = dx * dx + dy * dy;
  if (len2 <= 0) return 0;
  return std::clamp(((p.lon - a.lon) * dx + (p.lat - a.lat) * dy) / len2, 0.0, 1.0);
}

// Whether p is within kEps of the boxes of ab (a cheap test before the exact ones).
bool NearBox(Position p, Position a, Position b) {
  return p.lon >= std::min(a.lon, b.lon) - kEps && p.lon <= std::max(a.lon, b.lon) + kEps &&
         p.lat >= std::min(a.lat, b.lat) - kEps && p.lat <= std::max(a.lat, b.lat) + kEps;
}

bool OnSegment(Position p, Position a, Position b) {
  return NearBox(p, a, b) && PlanarLength(p, Lerp(a, b, ProjectParam(p, a, b))) <= kEps;
}

bool SegmentBoxesTouch(const Segment& s, const Segment& o) {
  return std::min(s.a.lon, s.b.lon) <= std::max(o.a.lon, o.b.lon) + kEps &&
         std::min(o.a.lon, o.b.lon) <= std::max(s.a.lon, s.b.lon) + kEps &&
         std::min(s.a.lat, s.b.lat) <= std::max(o.a.lat, o.b.lat) + kEps &&
         std::min(o.a.lat, o.b.lat) <= std::max(s.a.lat, s.b.lat) + kEps;
}

// +1 when p is left of the line a->b, -1 right, 0 within kEps of it (or when ab is degenerate).
int Side(Position a, Position b, Position p) {
  double len = PlanarLength(a, b);
  if (len <= kEps) return 0;
  double d = Cross(a, b, p) / len;
  return d > kEps ? 1 : (d < -kEps ? -1 : 0);
}

// Whether ab and cd cross at one point interior to both.
bool ProperlyCross(const Segment& s, const Segment& o) {
  return Side(o.a, o.b, s.a) * Side(o.a, o.b, s.b) < 0 && Side(s.a, s.b, o.a) * Side(s.a, s.b, o.b) < 0;
}

bool SegmentsIntersect(const Segment& s, const Segment& o) {
  if (!SegmentBoxesTouch(s, o)) return false;
  return OnSegment(s.a, o.a, o.b) || OnSegment(s.b, o.a, o.b) || OnSegment(o.a, s.a, s.b) || OnSegment(o.b, s.a, s.b) ||
         ProperlyCross(s, o);
}

enum class Location { kExterior, kBoundary, kInterior };

Location LocateInRing(Position p, const LinearRing& ring) {
  bool inside = false;
  for (size_t i = 1; i < ring.size(); ++i) {
    Position a = ring[i - 1], b = ring[i];
    if (OnSegment(p, a, b)) return Location::kBoundary;
    if ((a.lat > p.lat) != (b.lat > p.lat)) {
      double x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
      if (p.lon < x) inside = !inside;
    }
  }
  return inside ? Location::kInterior : Location::kExterior;
}

Location LocateInPolygon(Position p, const Polygon& polygon) {
  Location shell = LocateInRing(p, polygon.front());
  if (shell != Location::kInterior) return shell;
  for (size_t h = 1; h < polygon.size(); ++h) {
    Location hole = LocateInRing(p, polygon[h]);
    if (hole == Location::kInterior) return Location::kExterior;
    if (hole == Location::kBoundary) return Location::kBoundary;
  }
  return Location::kInterior;
}

Location Locate(Position p, const Geometry& g) {
  switch (g.Dimension()) {
    case 0:
      for (Position q : g.points) {
        if (SamePosition(p, q)) return Location::kInterior;
      }
      return Location::kExterior;
    case 1: {
      bool on = false;
      int endpoints = 0;  // the boundary of lines: endpoints of open lines, by the mod-2 rule
      for (const LineString& line : g.lines) {
        for (size_t i = 1; i < line.size() && !on; ++i) on = OnSegment(p, line[i - 1], line[i]);
        if (!SamePosition(line.front(), line.back())) {
          endpoints += SamePosition(p, line.front()) + SamePosition(p, line.back());
        }
      }
      if (!on) return Location::kExterior;
      return endpoints % 2 == 1 ? Location::kBoundary : Location::kInterior;
    }
    default: {
      bool boundary = false;
      for (const Polygon& polygon : g.polygons) {
        Location l = LocateInPolygon(p, polygon);
        if (l == Location::kInterior) return l;
        boundary = boundary || l == Location::kBoundary;
      }
      return boundary ? Location::kBoundary : Location::kExterior;
    }
  }
}

// A geometry flattened for the predicates: its vertices (or points) and its edges.
struct Shape {
  const Geometry* g = nullptr;
  int dim = 0;
  std::vector<Position> vertices;
  std::vector<Segment> segments;
  BoundingBox box;
};

Shape MakeShape(const Geometry& g) {
  Shape s;
  s.g = &g;
  s.dim = g.Dimension();
  auto add_path = [&s](const std::vector<Position>& path) {
    for (size_t i = 0; i < path.size(); ++i) {
      s.vertices.push_back(path[i]);
      if (i > 0) s.segments.push_back({path[i - 1], path[i]});
    }
  };
  s.vertices.insert(s.vertices.end(), g.points.begin(), g.points.end());
  for (const LineString& line : g.lines) add_path(line);
  for (const Polygon& polygon : g.polygons) {
    for (const LinearRing& ring : polygon) add_path(ring);
  }
  s.box = BoundsOf(g);
  return s;
}

bool BoxesTouch(const BoundingBox& a, const BoundingBox& b) {
  return a.min_lon <= b.max_lon + kEps && b.min_lon <= a.max_lon + kEps && a.min_lat <= b.max_lat + kEps &&
         b.min_lat <= a.max_lat + kEps;
}

bool BoxCovers(const BoundingBox& outer, const BoundingBox& inner) {
  return inner.min_lon >= outer.min_lon - kEps && inner.max_lon <= outer.max_lon + kEps &&
         inner.min_lat >= outer.min_lat - kEps && inner.max_lat <= outer.max_lat + kEps;
}

// The parameters (sorted, 0 and 1 included) where `other` meets segment s: crossings, vertices of
// `other` on s, ends of collinear overlaps. Between two consecutive ones, s is wholly inside, on or
// outside `other`.
std::vector<double> SplitParams(const Segment& s, const Shape& other) {
  std::vector<double> ts = {0.0, 1.0};
  double len = PlanarLength(s.a, s.b);
  if (len <= kEps) return ts;
  auto add_point = [&](Position p) {
    if (OnSegment(p, s.a, s.b)) ts.push_back(ProjectParam(p, s.a, s.b));
  };
  if (other.dim == 0) {
    for (Position p : other.vertices) add_point(p);
  }
  for (const Segment& o : other.segments) {
    if (!SegmentBoxesTouch(s, o)) continue;
    add_point(o.a);
    add_point(o.b);
    if (!IsDegenerate(o) && ProperlyCross(s, o)) {
      double rx = s.b.lon - s.a.lon, ry = s.b.lat - s.a.lat;
      double sx = o.b.lon - o.a.lon, sy = o.b.lat - o.a.lat;
      double denom = rx * sy - ry * sx;
      if (denom != 0) {
        double t = ((o.a.lon - s.a.lon) * sy - (o.a.lat - s.a.lat) * sx) / denom;
        ts.push_back(std::clamp(t, 0.0, 1.0));
      }
    }
  }
  std::sort(ts.begin(), ts.end());
  std::vector<double> unique;
  for (double t : ts) {
    if (unique.empty() || (t - unique.back()) * len > kEps) unique.push_back(t);
  }
  if (unique.back() != 1.0) unique.back() = 1.0;
  return unique;
}

// Calls fn(point) on the split points and the midpoints of the pieces of s cut by `other`; stops and
// returns true as soon as fn does.
template <typename Fn>
bool AnyPieceSample(const Segment& s, const Shape& other, bool include_split_points, Fn&& fn) {
  std::vector<double> ts = SplitParams(s, other);
  for (size_t i = 0; i < ts.size(); ++i) {
    if (include_split_points && fn(Lerp(s.a, s.b, ts[i]))) return true;
    if (i + 1 < ts.size() && fn(Lerp(s.a, s.b, (ts[i] + ts[i + 1]) / 2))) return true;
  }
  return false;
}

// Area (planar, signed: counter-clockwise positive) and centroid of a ring.
std::pair<double, Position> RingAreaCentroid(const LinearRing& ring) {
  double area2 = 0, cx = 0, cy = 0;
  Position o = ring.front();  // relative coordinates for precision
  for (size_t i = 1; i < ring.size(); ++i) {
    double x0 = ring[i - 1].lon - o.lon, y0 = ring[i - 1].lat - o.lat;
    double x1 = ring[i].lon - o.lon, y1 = ring[i].lat - o.lat;
    double c = x0 * y1 - x1 * y0;
    area2 += c;
    cx += (x0 + x1) * c;
    cy += (y0 + y1) * c;
  }
  if (area2 == 0) return {0, o};
  return {area2 / 2, Position{o.lon + cx / (3 * area2), o.lat + cy / (3 * area2)}};
}

double PolygonArea(const Polygon& polygon) {
  double area = std::abs(RingAreaCentroid(polygon.front()).first);
  for (size_t h = 1; h < polygon.size(); ++h) area -= std::abs(RingAreaCentroid(polygon[h]).first);
  return area;
}

// A point strictly inside the polygon, on the widest interior stretch of a horizontal line; nullopt
// when the polygon has no area.
std::optional<Position> PointInside(const Polygon& polygon) {
  const LinearRing& shell = polygon.front();
  double min_lat = shell.front().lat, max_lat = min_lat;
  for (Position p : shell) {
    min_lat = std::min(min_lat, p.lat);
    max_lat = std::max(max_lat, p.lat);
  }
  std::vector<double> candidates = {(min_lat + max_lat) / 2};
  std::vector<double> lats;
  for (const LinearRing& ring : polygon) {
    for (Position p : ring) lats.push_back(p.lat);
  }
  std::sort(lats.begin(), lats.end());
  lats.erase(std::unique(lats.begin(), lats.end()), lats.end());
  // Between consecutive vertex latitudes (never through a vertex); at most 64 tries, spread out.
  size_t gaps = lats.size() > 1 ? lats.size() - 1 : 0;
  size_t step = std::max<size_t>(1, gaps / 64);
  for (size_t i = 0; i < gaps; i += step) candidates.push_back((lats[i] + lats[i + 1]) / 2);
  for (double y : candidates) {
    std::vector<double> xs;
    for (const LinearRing& ring : polygon) {
      for (size_t i = 1; i < ring.size(); ++i) {
        Position a = ring[i - 1], b = ring[i];
        if ((a.lat > y) != (b.lat > y)) xs.push_back(a.lon + (y - a.lat) * (b.lon - a.lon) / (b.lat - a.lat));
      }
    }
    std::sort(xs.begin(), xs.end());
    double best_width = 0, best_x = 0;
    for (size_t i = 0; i + 1 < xs.size(); i += 2) {
      if (xs[i + 1] - xs[i] > best_width) {
        best_width = xs[i + 1] - xs[i];
        best_x = (xs[i] + xs[i + 1]) / 2;
      }
    }
    if (best_width > 2 * kEps) {
      Position p{best_x, y};
      if (LocateInPolygon(p, polygon) == Location::kInterior) return p;
    }
  }
  return std::nullopt;
}

// Samples of the interior of the 2-D shape's polygons (one per polygon that has area).
std::vector<Position> InteriorSamples(const Geometry& g) {
  std::vector<Position> out;
  for (const Polygon& polygon : g.polygons) {
    if (auto p = PointInside(polygon)) out.push_back(*p);
  }
  return out;
}

// No point of `inner` lies outside `outer`.
bool CoversShapes(const Shape& outer, const Shape& inner) {
  if (inner.dim > outer.dim) return false;
  if (!BoxCovers(outer.box, inner.box)) return false;
  for (Position v : inner.vertices) {
    if (Locate(v, *outer.g) == Location::kExterior) return false;
  }
  for (const Segment& s : inner.segments) {
    if (AnyPieceSample(s, outer, false, [&](Position m) { return Locate(m, *outer.g) == Location::kExterior; })) {
      return false;
    }
  }
  if (inner.dim == 2) {
    // inner's edges all lie in outer; a hole of outer could still sit wholly inside inner.
    for (const Polygon& polygon : outer.g->polygons) {
      for (size_t h = 1; h < polygon.size(); ++h) {
        auto p = PointInside(Polygon{polygon[h]});
        if (p && Locate(*p, *inner.g) == Location::kInterior) return false;
      }
    }
  }
  return true;
}

bool IntersectsShapes(const Shape& a, const Shape& b) {
  if (!BoxesTouch(a.box, b.box)) return false;
  for (Position v : a.vertices) {
    if (Locate(v, *b.g) != Location::kExterior) return true;
  }
  for (Position v : b.vertices) {
    if (Locate(v, *a.g) != Location::kExterior) return true;
  }
  for (const Segment& s : a.segments) {
    for (const Segment& o : b.segments) {
      if (SegmentsIntersect(s, o)) return true;
    }
  }
  return false;
}

// Whether the interiors of a and b share a point.
bool InteriorsIntersect(const Shape& first, const Shape& second) {
  const Shape& a = first.dim >= second.dim ? first : second;  // the higher dimension
  const Shape& b = first.dim >= second.dim ? second : first;
  if (!BoxesTouch(a.box, b.box)) return false;
  auto interior_of = [](const Shape& s) { return [&s](Position p) { return Locate(p, *s.g) == Location::kInterior; }; };
  if (b.dim == 0) return std::any_of(b.vertices.begin(), b.vertices.end(), interior_of(a));
  if (a.dim == 1) {  // two line geometries: a common point interior to both
    for (const Segment& s : a.segments) {
      if (AnyPieceSample(s, b, true, [&](Position p) { return interior_of(a)(p) && interior_of(b)(p); })) return true;
    }
    return false;
  }
  if (b.dim == 1) {  // a line and polygons: a piece of the line inside them
    for (const Segment& s : b.segments) {
      if (!IsDegenerate(s) && AnyPieceSample(s, a, false, interior_of(a))) return true;
    }
    return false;
  }
  // Two polygonal geometries: an edge of one passing inside the other, or (edges all shared) a point
  // inside both.
  for (const Segment& s : a.segments) {
    if (AnyPieceSample(s, b, false, interior_of(b))) return true;
  }
  for (const Segment& s : b.segments) {
    if (AnyPieceSample(s, a, false, interior_of(a))) return true;
  }
  for (Position p : InteriorSamples(*a.g)) {
    if (interior_of(b)(p)) return true;
  }
  for (Position p : InteriorSamples(*b.g)) {
    if (interior_of(a)(p)) return true;
  }
  return false;
}

// Metres from p to segment ab (straight in longitude/latitude): the nearest point is found on pieces
// of at most one degree in a local projection around p, then measured by haversine.
double PointSegmentMetres(Position p, Position a, Position b) {
  double span = std::max(std::abs(b.lon - a.lon), std::abs(b.lat - a.lat));
  int pieces = std::clamp(static_cast<int>(std::ceil(span)), 1, 720);
  double coslat = std::cos(Radians(p.lat));
  double best = std::numeric_limits<double>::infinity();
  for (int k = 0; k < pieces; ++k) {
    Position s = Lerp(a, b, static_cast<double>(k) / pieces);
    Position e = Lerp(a, b, static_cast<double>(k + 1) / pieces);
    double ax = (s.lon - p.lon) * coslat, ay = s.lat - p.lat;
    double dx = (e.lon - s.lon) * coslat, dy = e.lat - s.lat;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? std::clamp(-(ax * dx + ay * dy) / len2, 0.0, 1.0) : 0.0;
    best = std::min(best, HaversineDistance(p, Lerp(s, e, t)));
  }
  return best;
}

double PointShapeMetres(Position p, const Shape& s) {
  double best = std::numeric_limits<double>::infinity();
  if (s.dim == 0) {
    for (Position q : s.vertices) best = std::min(best, HaversineDistance(p, q));
  } else {
    for (const Segment& seg : s.segments) best = std::min(best, PointSegmentMetres(p, seg.a, seg.b));
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Parsing.

class CoordinatesParser {
 public:
  explicit CoordinatesParser(std::string field) : field_(std::move(field)) {}

  Result<Geometry> Parse(GeometryType type, const json& c) {
    Geometry g;
    g.type = type;
    switch (type) {
      case GeometryType::kPoint: {
        TL_ASSIGN_OR_RETURN(Position p, ParsePosition(c, ""));
        g.points.push_back(p);
        break;
      }
      case GeometryType::kMultiPoint: {
        TL_RETURN_IF_ERROR(ExpectArray(c, "", 1, "a MultiPoint needs at least one position"));
        for (size_t i = 0; i < c.size(); ++i) {
          TL_ASSIGN_OR_RETURN(Position p, ParsePosition(c[i], Index(i)));
          g.points.push_back(p);
        }
        break;
      }
      case GeometryType::kLineString: {
        TL_ASSIGN_OR_RETURN(LineString line, ParseLine(c, ""));
        g.lines.push_back(std::move(line));
        break;
      }
      case GeometryType::kMultiLineString: {
        TL_RETURN_IF_ERROR(ExpectArray(c, "", 1, "a MultiLineString needs at least one line string"));
        for (size_t i = 0; i < c.size(); ++i) {
          TL_ASSIGN_OR_RETURN(LineString line, ParseLine(c[i], Index(i)));
          g.lines.push_back(std::move(line));
        }
        break;
      }
      case GeometryType::kPolygon: {
        TL_ASSIGN_OR_RETURN(Polygon polygon, ParsePolygon(c, ""));
        g.polygons.push_back(std::move(polygon));
        break;
      }
      case GeometryType::kMultiPolygon: {
        TL_RETURN_IF_ERROR(ExpectArray(c, "", 1, "a MultiPolygon needs at least one polygon"));
        for (size_t i = 0; i < c.size(); ++i) {
          TL_ASSIGN_OR_RETURN(Polygon polygon, ParsePolygon(c[i], Index(i)));
          g.polygons.push_back(std::move(polygon));
        }
        break;
      }
    }
    return g;
  }

 private:
  static std::string Index(size_t i) { return "[" + std::to_string(i) + "]"; }

  Status Error(const std::string& path, const std::string& message) const {
    return InvalidArgument(field_ + path + ": " + message, field_);
  }

  Status ExpectArray(const json& c, const std::string& path, size_t min_size, const std::string& too_short) const {
    if (!c.is_array()) return Error(path, "expected an array");
    if (c.size() < min_size) return Error(path, too_short);
    return Status::Ok();
  }

  Result<Position> ParsePosition(const json& c, const std::string& path) {
    if (!c.is_array()) return Error(path, "expected a position [longitude, latitude]");
    if (c.size() < 2 || c.size() > 3) return Error(path, "a position has 2 or 3 numbers");
    for (size_t i = 0; i < c.size(); ++i) {
      if (!c[i].is_number()) return Error(path + Index(i), "expected a number");
    }
    if (++positions_ > kMaxPositions) {
      return Error("", "more than " + std::to_string(kMaxPositions) + " positions");
    }
    Position p{c[0].get<double>(), c[1].get<double>()};
    if (!std::isfinite(p.lon) || p.lon < -180 || p.lon > 180) {
      return Error(path + "[0]", "longitude " + c[0].dump() + " is outside [-180, 180]");
    }
    if (!std::isfinite(p.lat) || p.lat < -90 || p.lat > 90) {
      return Error(path + "[1]", "latitude " + c[1].dump() + " is outside [-90, 90]");
    }
    return p;
  }

  Result<std::vector<Position>> ParsePositions(const json& c, const std::string& path) {
    std::vector<Position> out;
    out.reserve(c.size());
    for (size_t i = 0; i < c.size(); ++i) {
      TL_ASSIGN_OR_RETURN(Position p, ParsePosition(c[i], path + Index(i)));
      out.push_back(p);
    }
    return out;
  }

  Result<LineString> ParseLine(const json& c, const std::string& path) {
    TL_RETURN_IF_ERROR(ExpectArray(c, path, 2, "a line string needs at least 2 positions"));
    return ParsePositions(c, path);
  }

  Result<Polygon> ParsePolygon(const json& c, const std::string& path) {
    TL_RETURN_IF_ERROR(ExpectArray(c, path, 1, "a polygon needs an exterior ring"));
    Polygon polygon;
    for (size_t r = 0; r < c.size(); ++r) {
      std::string ring_path = path + Index(r);
      TL_RETURN_IF_ERROR(ExpectArray(c[r], ring_path, 4, "a linear ring needs at least 4 positions"));
      TL_ASSIGN_OR_RETURN(LinearRing ring, ParsePositions(c[r], ring_path));
      if (!(ring.front() == ring.back())) {
        return Error(ring_path, "a linear ring must be closed (its last position equal to its first)");
      }
      polygon.push_back(std::move(ring));
    }
    return polygon;
  }

  std::string field_;
  size_t positions_ = 0;
};

Result<double> ParseDistance(std::string_view text, std::string_view name) {
  double d = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(d) || d < 0) {
    return InvalidArgument("georel: " + std::string(name) + " must be a non-negative number of metres", "georel");
  }
  return d;
}

std::string FormatNumber(double d) {
  std::string s = json(d).dump();
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

int Geometry::Dimension() const {
  switch (type) {
    case GeometryType::kPoint:
    case GeometryType::kMultiPoint:
      return 0;
    case GeometryType::kLineString:
    case GeometryType::kMultiLineString:
      return 1;
    default:
      return 2;
  }
}

Geometry Geometry::Point(double lon, double lat) {
  Geometry g;
  g.type = GeometryType::kPoint;
  g.points.push_back({lon, lat});
  return g;
}

bool BoundingBox::Contains(Position p) const {
  return p.lon >= min_lon && p.lon <= max_lon && p.lat >= min_lat && p.lat <= max_lat;
}

bool BoundingBox::Intersects(const BoundingBox& o) const {
  return min_lon <= o.max_lon && o.min_lon <= max_lon && min_lat <= o.max_lat && o.min_lat <= max_lat;
}

std::string_view GeometryTypeName(GeometryType type) {
  switch (type) {
    case GeometryType::kPoint:
      return "Point";
    case GeometryType::kMultiPoint:
      return "MultiPoint";
    case GeometryType::kLineString:
      return "LineString";
    case GeometryType::kMultiLineString:
      return "MultiLineString";
    case GeometryType::kPolygon:
      return "Polygon";
    case GeometryType::kMultiPolygon:
      return "MultiPolygon";
  }
  return "";
}

Result<GeometryType> ParseGeometryType(std::string_view name, std::string_view field) {
  for (GeometryType t : {GeometryType::kPoint, GeometryType::kMultiPoint, GeometryType::kLineString,
                         GeometryType::kMultiLineString, GeometryType::kPolygon, GeometryType::kMultiPolygon}) {
    if (name == GeometryTypeName(t)) return t;
  }
  if (name.empty()) return InvalidArgument(std::string(field) + ": a geometry type is required", std::string(field));
  return InvalidArgument(std::string(field) + ": unsupported geometry type '" + std::string(name) +
                             "' (Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon)",
                         std::string(field));
}

Result<Geometry> ParseGeometry(const json& geojson, std::string_view field_prefix) {
  std::string type_field = std::string(field_prefix) + "type";
  if (!geojson.is_object()) {
    std::string field(field_prefix);
    if (!field.empty() && field.back() == '.') field.pop_back();
    if (field.empty()) field = "geometry";
    return InvalidArgument(field + ": a geometry must be a GeoJSON object", field);
  }
  auto type = geojson.find("type");
  if (type == geojson.end() || !type->is_string()) {
    return InvalidArgument(type_field + ": a geometry needs a \"type\" string", type_field);
  }
  TL_ASSIGN_OR_RETURN(GeometryType t, ParseGeometryType(type->get_ref<const std::string&>(), type_field));
  std::string coordinates_field = std::string(field_prefix) + "coordinates";
  auto coordinates = geojson.find("coordinates");
  if (coordinates == geojson.end()) {
    return InvalidArgument(coordinates_field + ": a geometry needs \"coordinates\"", coordinates_field);
  }
  return CoordinatesParser(coordinates_field).Parse(t, *coordinates);
}

Result<Geometry> ParseGeometryParameters(std::string_view geometry, std::string_view coordinates) {
  TL_ASSIGN_OR_RETURN(GeometryType t, ParseGeometryType(geometry, "geometry"));
  if (coordinates.empty()) return InvalidArgument("coordinates: required with geometry", "coordinates");
  json c = json::parse(coordinates.begin(), coordinates.end(), nullptr, /*allow_exceptions=*/false);
  if (c.is_discarded()) return InvalidArgument("coordinates: not a valid JSON array", "coordinates");
  return CoordinatesParser("coordinates").Parse(t, c);
}

json ToGeoJson(const Geometry& g) {
  auto position = [](Position p) { return json::array({p.lon, p.lat}); };
  auto path = [&](const std::vector<Position>& ps) {
    json out = json::array();
    for (Position p : ps) out.push_back(position(p));
    return out;
  };
  auto polygon = [&](const Polygon& rings) {
    json out = json::array();
    for (const LinearRing& r : rings) out.push_back(path(r));
    return out;
  };
  json coordinates;
  switch (g.type) {
    case GeometryType::kPoint:
      coordinates = position(g.points.front());
      break;
    case GeometryType::kMultiPoint:
      coordinates = path(g.points);
      break;
    case GeometryType::kLineString:
      coordinates = path(g.lines.front());
      break;
    case GeometryType::kMultiLineString:
      coordinates = json::array();
      for (const LineString& l : g.lines) coordinates.push_back(path(l));
      break;
    case GeometryType::kPolygon:
      coordinates = polygon(g.polygons.front());
      break;
    case GeometryType::kMultiPolygon:
      coordinates = json::array();
      for (const Polygon& p : g.polygons) coordinates.push_back(polygon(p));
      break;
  }
  return json{{"type", GeometryTypeName(g.type)}, {"coordinates", std::move(coordinates)}};
}

std::string Georel::ToString() const {
  static constexpr std::string_view kNames[] = {"near",     "within", "contains", "intersects",
                                                "disjoint", "equals", "overlaps"};
  std::string out(kNames[static_cast<int>(relation)]);
  if (max_distance) out += ";maxDistance==" + FormatNumber(*max_distance);
  if (min_distance) out += ";minDistance==" + FormatNumber(*min_distance);
  return out;
}

Result<Georel> ParseGeorel(std::string_view text) {
  static constexpr std::pair<std::string_view, GeoRelation> kRelations[] = {
      {"near", GeoRelation::kNear},         {"within", GeoRelation::kWithin},
      {"contains", GeoRelation::kContains}, {"intersects", GeoRelation::kIntersects},
      {"disjoint", GeoRelation::kDisjoint}, {"equals", GeoRelation::kEquals},
      {"overlaps", GeoRelation::kOverlaps},
  };
  if (text.empty()) return InvalidArgument("georel: required", "georel");
  size_t semi = text.find(';');
  std::string_view name = text.substr(0, semi);
  Georel georel;
  bool known = false;
  for (const auto& [n, r] : kRelations) {
    if (name == n) {
      georel.relation = r;
      known = true;
    }
  }
  if (!known) {
    return InvalidArgument("georel: unknown relation '" + std::string(name) +
                               "' (near, within, contains, intersects, disjoint, equals or overlaps)",
                           "georel");
  }
  while (semi != std::string_view::npos) {
    text.remove_prefix(semi + 1);
    semi = text.find(';');
    std::string_view modifier = text.substr(0, semi);
    if (georel.relation != GeoRelation::kNear) {
      return InvalidArgument("georel: only near takes a distance", "georel");
    }
    size_t eq = modifier.find("==");
    std::string_view key = modifier.substr(0, eq);
    if (eq == std::string_view::npos || (key != "maxDistance" && key != "minDistance")) {
      return InvalidArgument("georel: expected maxDistance==<metres> or minDistance==<metres> after near;", "georel");
    }
    TL_ASSIGN_OR_RETURN(double d, ParseDistance(modifier.substr(eq + 2), key));
    std::optional<double>& slot = key == "maxDistance" ? georel.max_distance : georel.min_distance;
    if (slot) return InvalidArgument("georel: " + std::string(key) + " is given twice", "georel");
    slot = d;
  }
  if (georel.relation == GeoRelation::kNear) {
    if (!georel.max_distance && !georel.min_distance) {
      return InvalidArgument("georel: near needs maxDistance==<metres> or minDistance==<metres>", "georel");
    }
    if (georel.max_distance && georel.min_distance && *georel.min_distance > *georel.max_distance) {
      return InvalidArgument("georel: minDistance is greater than maxDistance", "georel");
    }
  }
  return georel;
}

Result<GeoQuery> ParseGeoQuery(std::string_view georel, std::string_view geometry, std::string_view coordinates) {
  GeoQuery q;
  TL_ASSIGN_OR_RETURN(q.georel, ParseGeorel(georel));
  TL_ASSIGN_OR_RETURN(q.geometry, ParseGeometryParameters(geometry, coordinates));
  return q;
}

double HaversineDistance(Position a, Position b) {
  double phi1 = Radians(a.lat), phi2 = Radians(b.lat);
  double dphi = phi2 - phi1, dlambda = Radians(b.lon - a.lon);
  double s1 = std::sin(dphi / 2), s2 = std::sin(dlambda / 2);
  double h = s1 * s1 + std::cos(phi1) * std::cos(phi2) * s2 * s2;
  return 2 * kEarthRadiusMetres * std::asin(std::min(1.0, std::sqrt(h)));
}

double Distance(const Geometry& a, const Geometry& b) {
  Shape sa = MakeShape(a), sb = MakeShape(b);
  if (IntersectsShapes(sa, sb)) return 0;
  double best = std::numeric_limits<double>::infinity();
  for (Position v : sa.vertices) best = std::min(best, PointShapeMetres(v, sb));
  for (Position v : sb.vertices) best = std::min(best, PointShapeMetres(v, sa));
  return best;
}

bool Intersects(const Geometry& a, const Geometry& b) {
  return IntersectsShapes(MakeShape(a), MakeShape(b));
}

bool Covers(const Geometry& a, const Geometry& b) {
  return CoversShapes(MakeShape(a), MakeShape(b));
}

bool Within(const Geometry& a, const Geometry& b) {
  Shape sa = MakeShape(a), sb = MakeShape(b);
  return CoversShapes(sb, sa) && InteriorsIntersect(sa, sb);
}

bool Contains(const Geometry& a, const Geometry& b) {
  return Within(b, a);
}

bool Equals(const Geometry& a, const Geometry& b) {
  Shape sa = MakeShape(a), sb = MakeShape(b);
  return sa.dim == sb.dim && CoversShapes(sa, sb) && CoversShapes(sb, sa);
}

bool Overlaps(const Geometry& a, const Geometry& b) {
  Shape sa = MakeShape(a), sb = MakeShape(b);
  if (sa.dim != sb.dim || !BoxesTouch(sa.box, sb.box)) return false;
  bool share;
  if (sa.dim == 1) {  // the lines must share a stretch, not only cross
    share = std::any_of(sa.segments.begin(), sa.segments.end(), [&](const Segment& s) {
      return !IsDegenerate(s) &&
             AnyPieceSample(s, sb, false, [&](Position m) { return Locate(m, b) != Location::kExterior; });
    });
  } else {
    share = InteriorsIntersect(sa, sb);
  }
  return share && !CoversShapes(sa, sb) && !CoversShapes(sb, sa);
}

bool Matches(const Georel& georel, const Geometry& query_geometry, const Geometry& entity_geometry) {
  switch (georel.relation) {
    case GeoRelation::kNear: {
      if (georel.max_distance &&
          !BoundsOf(entity_geometry).Intersects(ExpandBy(BoundsOf(query_geometry), *georel.max_distance))) {
        return false;
      }
      double d = Distance(entity_geometry, query_geometry);
      if (georel.max_distance && d > *georel.max_distance) return false;
      if (georel.min_distance && d < *georel.min_distance) return false;
      return true;
    }
    case GeoRelation::kWithin:
      return Within(entity_geometry, query_geometry);
    case GeoRelation::kContains:
      return Contains(entity_geometry, query_geometry);
    case GeoRelation::kIntersects:
      return Intersects(entity_geometry, query_geometry);
    case GeoRelation::kDisjoint:
      return !Intersects(entity_geometry, query_geometry);
    case GeoRelation::kEquals:
      return Equals(entity_geometry, query_geometry);
    case GeoRelation::kOverlaps:
      return Overlaps(entity_geometry, query_geometry);
  }
  return false;
}

bool MatchesEntity(const GeoQuery& query, const json& entity, std::string_view geoproperty) {
  if (!entity.is_object()) return false;
  auto it = entity.find(std::string(geoproperty));
  if (it == entity.end()) return false;
  auto matches_instance = [&](const json& attribute) {
    if (!attribute.is_object()) return false;
    auto value = attribute.find("value");
    if (value == attribute.end()) return false;
    auto g = ParseGeometry(*value);
    return g.ok() && Matches(query.georel, query.geometry, *g);
  };
  if (it->is_array()) return std::any_of(it->begin(), it->end(), matches_instance);
  return matches_instance(*it);
}

BoundingBox BoundsOf(const Geometry& g) {
  BoundingBox box{180, 90, -180, -90};
  auto add = [&box](Position p) {
    box.min_lon = std::min(box.min_lon, p.lon);
    box.max_lon = std::max(box.max_lon, p.lon);
    box.min_lat = std::min(box.min_lat, p.lat);
    box.max_lat = std::max(box.max_lat, p.lat);
  };
  for (Position p : g.points) add(p);
  for (const LineString& l : g.lines) std::for_each(l.begin(), l.end(), add);
  for (const Polygon& polygon : g.polygons) std::for_each(polygon.front().begin(), polygon.front().end(), add);
  return box;
}

BoundingBox ExpandBy(const BoundingBox& box, double metres) {
  double delta = std::max(0.0, metres) / kEarthRadiusMetres;  // radians of arc
  BoundingBox out = box;
  out.min_lat = box.min_lat - Degrees(delta);
  out.max_lat = box.max_lat + Degrees(delta);
  bool all_longitudes = out.min_lat <= -90 || out.max_lat >= 90 || delta >= kPi / 2;
  if (!all_longitudes) {
    // The largest change of longitude within `delta` of a point at latitude phi: asin(sin delta / cos phi).
    double phi = Radians(std::max(std::abs(box.min_lat), std::abs(box.max_lat)));
    double s = std::sin(delta) / std::cos(phi);
    if (s >= 1) {
      all_longitudes = true;
    } else {
      double dlon = Degrees(std::asin(s)) + 1e-9;
      out.min_lon = box.min_lon - dlon;
      out.max_lon = box.max_lon + dlon;
      all_longitudes = out.min_lon < -180 || out.max_lon > 180;
    }
  }
  if (all_longitudes) {
    out.min_lon = -180;
    out.max_lon = 180;
  }
  out.min_lat = std::max(-90.0, out.min_lat);
  out.max_lat = std::min(90.0, out.max_lat);
  return out;
}

Position RepresentativePoint(const Geometry& g) {
  int dim = g.Dimension();
  if ((dim == 0 && g.points.empty()) || (dim == 1 && g.lines.empty()) || (dim == 2 && g.polygons.empty())) return {};
  switch (dim) {
    case 0: {
      double lon = 0, lat = 0;
      for (Position p : g.points) {
        lon += p.lon;
        lat += p.lat;
      }
      Position mean{lon / g.points.size(), lat / g.points.size()};
      return *std::min_element(g.points.begin(), g.points.end(),
                               [&](Position a, Position b) { return PlanarLength(a, mean) < PlanarLength(b, mean); });
    }
    case 1: {
      auto length = [](const LineString& l) {
        double total = 0;
        for (size_t i = 1; i < l.size(); ++i) total += HaversineDistance(l[i - 1], l[i]);
        return total;
      };
      const LineString* longest = &g.lines.front();
      double longest_length = length(*longest);
      for (const LineString& l : g.lines) {
        double len = length(l);
        if (len > longest_length) {
          longest = &l;
          longest_length = len;
        }
      }
      double half = longest_length / 2, walked = 0;
      for (size_t i = 1; i < longest->size(); ++i) {
        double step = HaversineDistance((*longest)[i - 1], (*longest)[i]);
        if (walked + step >= half && step > 0) return Lerp((*longest)[i - 1], (*longest)[i], (half - walked) / step);
        walked += step;
      }
      return longest->front();
    }
    default: {
      const Polygon* largest = &g.polygons.front();
      double largest_area = PolygonArea(*largest);
      for (const Polygon& p : g.polygons) {
        double area = PolygonArea(p);
        if (area > largest_area) {
          largest = &p;
          largest_area = area;
        }
      }
      // The area-weighted centroid of the shell less its holes.
      auto [shell_area, shell_centroid] = RingAreaCentroid(largest->front());
      double area = std::abs(shell_area);
      double lon = shell_centroid.lon * area, lat = shell_centroid.lat * area;
      for (size_t h = 1; h < largest->size(); ++h) {
        auto [hole_area, hole_centroid] = RingAreaCentroid((*largest)[h]);
        area -= std::abs(hole_area);
        lon -= hole_centroid.lon * std::abs(hole_area);
        lat -= hole_centroid.lat * std::abs(hole_area);
      }
      if (area > 0) {
        Position centroid{lon / area, lat / area};
        if (LocateInPolygon(centroid, *largest) == Location::kInterior) return centroid;
      }
      if (auto inside = PointInside(*largest)) return *inside;
      return largest->front().front();
    }
  }
}

}  // namespace tl::ngsild
