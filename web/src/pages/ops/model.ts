// The operations centre's view of the city: sensors (NGSI-LD entities in keyValues form, Smart Data
// Models names), how each is classed for its colour on the map, the tiles' figures and the alerts.
import { authToken } from '../../session';
import { ApiError, type Problem } from '../../api';

export const SDM_CONTEXT = '/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld';

/**
 * The entity types the map shows in full. Streetlights are too many to draw (10,000 in the
 * simulated city): the map shows the faulty ones only (FAULTY_LIGHTS), and a tile counts them.
 */
export const SENSOR_TYPES = [
  'AirQualityObserved',
  'TrafficFlowObserved',
  'FloodMonitoring',
  'WaterObserved',
  'OffStreetParking',
  'AdministrativeServiceIndex',
] as const;

export const STREETLIGHT = 'Streetlight';
/** A streetlight the map shows: its Smart Data Models `status` is anything but "ok". */
export function isFaultyLight(s: Sensor): boolean {
  if (s.type !== STREETLIGHT) return false;
  const status = s.attributes.status;
  return typeof status === 'string' && status !== 'ok';
}

export interface Point {
  type: 'Point';
  coordinates: [number, number];
}

export interface Sensor {
  id: string;
  type: string;
  name?: string;
  attributes: Record<string, unknown>;
  location: { type: string; coordinates: unknown } | null;
  modifiedAt?: string;
  observedAt?: string | null;
}

export type Severity = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export type AlertStatus = 'open' | 'acknowledged' | 'assigned' | 'resolved';

export interface Alert {
  id: string;
  rule_id?: string;
  rule_name?: string;
  entity_id: string;
  entity_type?: string;
  attribute?: string;
  severity: Severity | string;
  status: AlertStatus | string;
  title: string;
  description?: string;
  value?: unknown;
  threshold?: unknown;
  location: { type: string; coordinates: unknown } | null;
  raised_at: string;
  updated_at?: string;
  acknowledged_by?: string | null;
  assignee?: string | null;
  escalated?: boolean;
  condition_cleared?: boolean;
  version: number;
  comments?: { by: string; at: string; text: string }[];
}

export const SEVERITY_ORDER: Record<string, number> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  informational: 4,
};

/** Open first, then by severity, then the newest. */
export function sortAlerts(list: Alert[]): Alert[] {
  const statusRank = (s: string) => (s === 'open' ? 0 : s === 'resolved' ? 2 : 1);
  return list.slice().sort(
    (a, b) =>
      statusRank(a.status) - statusRank(b.status) ||
      (SEVERITY_ORDER[a.severity] ?? 5) - (SEVERITY_ORDER[b.severity] ?? 5) ||
      b.raised_at.localeCompare(a.raised_at),
  );
}

export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (v && typeof v === 'object' && 'value' in v) return num((v as { value: unknown }).value);
  return null;
}

export function pointOf(g: { type: string; coordinates: unknown } | null | undefined): [number, number] | null {
  if (!g || g.type !== 'Point' || !Array.isArray(g.coordinates)) return null;
  const [lon, lat] = g.coordinates as unknown[];
  return typeof lon === 'number' && typeof lat === 'number' ? [lat, lon] : null;
}

// --- Classes: the colour of a sensor on the map -----------------------------------------------------

export interface SensorClass {
  key: string;  // i18n suffix: ops.class.<key>
  colour: string;
}

// US EPA PM2.5 breakpoints (µg/m³, 24-h), the classes of the AQI.
const AQI_CLASSES: [number, SensorClass][] = [
  [12, { key: 'aqi.good', colour: '#2e9d48' }],
  [35.4, { key: 'aqi.moderate', colour: '#e3b505' }],
  [55.4, { key: 'aqi.sensitive', colour: '#ef7d00' }],
  [150.4, { key: 'aqi.unhealthy', colour: '#d7191c' }],
  [250.4, { key: 'aqi.veryUnhealthy', colour: '#7b2d8b' }],
  [Infinity, { key: 'aqi.hazardous', colour: '#6b0f1a' }],
];
export const NO_DATA: SensorClass = { key: 'noData', colour: '#8a8a8f' };

export function aqiClass(pm25: number | null): SensorClass {
  if (pm25 === null) return NO_DATA;
  return AQI_CLASSES.find(([limit]) => pm25 <= limit)![1];
}

export function waterLevel(s: Sensor): number | null {
  return num(s.attributes.currentLevel) ?? num(s.attributes.waterLevel);
}

export function isFlooded(s: Sensor): boolean {
  const level = waterLevel(s);
  const alert = num(s.attributes.alertLevel);
  return level !== null && alert !== null && level >= alert;
}

export function classify(s: Sensor): SensorClass {
  const a = s.attributes;
  switch (s.type) {
    case 'AirQualityObserved':
      return aqiClass(num(a.pm25));
    case 'TrafficFlowObserved':
      if (a.congested === undefined && num(a.averageVehicleSpeed) === null) return NO_DATA;
      return a.congested === true || a.congested === 'true'
        ? { key: 'traffic.congested', colour: '#d7191c' }
        : { key: 'traffic.flowing', colour: '#2e9d48' };
    case 'FloodMonitoring':
    case 'WaterObserved': {
      const level = waterLevel(s);
      if (level === null) return NO_DATA;
      const danger = num(a.dangerLevel);
      if (danger !== null && level >= danger) return { key: 'flood.danger', colour: '#6b0f1a' };
      if (isFlooded(s)) return { key: 'flood.alert', colour: '#ef7d00' };
      return { key: 'flood.normal', colour: '#2a5db0' };
    }
    case 'OffStreetParking': {
      const free = num(a.availableSpotNumber);
      const total = num(a.totalSpotNumber);
      if (free === null) return NO_DATA;
      if (free <= 0) return { key: 'parking.full', colour: '#d7191c' };
      if (total && free / total < 0.1) return { key: 'parking.almostFull', colour: '#ef7d00' };
      return { key: 'parking.free', colour: '#2e9d48' };
    }
    case 'Streetlight':
      return isFaultyLight(s) ? { key: 'light.faulty', colour: '#b8860b' } : { key: 'light.ok', colour: '#f2d16b' };
    default:
      return NO_DATA;
  }
}

/** The attribute a sensor's history chart shows. */
export function mainAttribute(type: string): string | null {
  switch (type) {
    case 'AirQualityObserved':
      return 'pm25';
    case 'TrafficFlowObserved':
      return 'averageVehicleSpeed';
    case 'FloodMonitoring':
      return 'currentLevel';
    case 'WaterObserved':
      return 'waterLevel';
    case 'OffStreetParking':
      return 'availableSpotNumber';
    case 'AdministrativeServiceIndex':
      return 'onTimeRate';
    default:
      return null;
  }
}

// --- Tiles -------------------------------------------------------------------------------------------

export interface Tiles {
  air: { average: number | null; worst: Sensor | null; worstPm25: number | null; stations: number };
  traffic: { congested: number; total: number };
  parking: { free: number; total: number; sites: number };
  flood: { flooded: number; gauges: number };
  onTime: { rate: number | null; communes: number };
  lights: { faulty: number };
}

export function computeTiles(sensors: Iterable<Sensor>): Tiles {
  const t: Tiles = {
    air: { average: null, worst: null, worstPm25: null, stations: 0 },
    traffic: { congested: 0, total: 0 },
    parking: { free: 0, total: 0, sites: 0 },
    flood: { flooded: 0, gauges: 0 },
    onTime: { rate: null, communes: 0 },
    lights: { faulty: 0 },
  };
  let pmSum = 0;
  let rateSum = 0;
  for (const s of sensors) {
    const a = s.attributes;
    if (s.type === 'AirQualityObserved') {
      const pm = num(a.pm25);
      if (pm === null) continue;
      t.air.stations++;
      pmSum += pm;
      if (t.air.worstPm25 === null || pm > t.air.worstPm25) {
        t.air.worstPm25 = pm;
        t.air.worst = s;
      }
    } else if (s.type === 'TrafficFlowObserved') {
      t.traffic.total++;
      if (a.congested === true || a.congested === 'true') t.traffic.congested++;
    } else if (s.type === 'OffStreetParking') {
      const free = num(a.availableSpotNumber);
      if (free === null) continue;
      t.parking.sites++;
      t.parking.free += free;
      t.parking.total += num(a.totalSpotNumber) ?? 0;
    } else if (s.type === 'FloodMonitoring' || s.type === 'WaterObserved') {
      t.flood.gauges++;
      if (isFlooded(s)) t.flood.flooded++;
    } else if (s.type === STREETLIGHT) {
      if (isFaultyLight(s)) t.lights.faulty++;
    } else if (s.type === 'AdministrativeServiceIndex') {
      const rate = num(a.onTimeRate);
      if (rate === null) continue;
      t.onTime.communes++;
      rateSum += rate > 1 ? rate / 100 : rate;
    }
  }
  if (t.air.stations) t.air.average = pmSum / t.air.stations;
  if (t.onTime.communes) t.onTime.rate = rateSum / t.onTime.communes;
  return t;
}

// --- HTTP --------------------------------------------------------------------------------------------

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', ...extra };
  const token = authToken();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, extra?: Record<string, string>): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? extra : { 'Content-Type': 'application/json', ...extra }),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const problem: Problem = data && typeof data === 'object' ? (data as Problem) : { status: res.status, title: res.statusText };
    throw new ApiError(res.status, problem);
  }
  // Not JSON (the single-page app's index.html for a route this server does not have): not available.
  if (res.status !== 204 && (data === undefined || typeof data !== 'object')) {
    throw new ApiError(404, { status: 404, title: 'Not Found' });
  }
  return data as T;
}

// The broker takes our contexts by absolute URL (any host), not by a relative one.
const LINK = { Link: `<${location.origin}${SDM_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"` };

/** The entities `params` select, keyValues, in pages of 1,000 (at most 10 pages). */
async function loadPages(params: Record<string, string>, signal: AbortSignal): Promise<Sensor[]> {
  const out: Sensor[] = [];
  for (let page = 0; page < 10; page++) {
    const q = new URLSearchParams({ ...params, options: 'keyValues', limit: '1000', offset: String(page * 1000) });
    const items = await call<Record<string, unknown>[]>('GET', `/ngsi-ld/v1/entities?${q}`, undefined, signal, LINK);
    for (const e of items) out.push(fromKeyValues(e));
    if (items.length < 1000) break;
  }
  return out;
}

/** Every sensor of the shown types. */
export function loadSensors(signal: AbortSignal): Promise<Sensor[]> {
  return loadPages({ type: SENSOR_TYPES.join(',') }, signal);
}

/**
 * The faulty streetlights (status other than "ok") and how many
 * streetlights there are in all (NGSILD-Results-Count of an empty page).
 */
export async function loadFaultyLights(signal: AbortSignal): Promise<{ faulty: Sensor[]; total: number }> {
  const faulty = await loadPages({ type: STREETLIGHT, q: 'status!="ok"' }, signal);
  const total = await countLights(signal);
  return { faulty, total: total ?? faulty.length };
}

/** How many streetlights there are (NGSILD-Results-Count of an empty page). */
export async function countLights(signal: AbortSignal): Promise<number | null> {
  const q = new URLSearchParams({ type: STREETLIGHT, limit: '0', count: 'true' });
  const res = await fetch(`/ngsi-ld/v1/entities?${q}`, { headers: headers(LINK), signal, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, { status: res.status, title: res.statusText });
  const total = Number(res.headers.get('NGSILD-Results-Count'));
  return Number.isFinite(total) ? total : null;
}

export function fromKeyValues(e: Record<string, unknown>): Sensor {
  const { id, type, location, ...attributes } = e;
  return {
    id: String(id),
    type: Array.isArray(type) ? String(type[0]) : String(type),
    name: typeof attributes.name === 'string' ? attributes.name : undefined,
    attributes,
    location: (location as Sensor['location']) ?? null,
  };
}

/** [epoch seconds, value] of one attribute since `sinceIso`, from the temporal API. */
export async function loadHistory(id: string, attr: string, sinceIso: string, signal: AbortSignal): Promise<[number[], (number | null)[]]> {
  const q = new URLSearchParams({ attrs: attr, timerel: 'after', timeAt: sinceIso, options: 'temporalValues' });
  const body = await call<Record<string, unknown>>(
    'GET',
    `/ngsi-ld/v1/temporal/entities/${encodeURIComponent(id)}?${q}`,
    undefined,
    signal,
    LINK,
  );
  const points: [number, number | null][] = [];
  const add = (v: unknown, at: unknown) => {
    if (typeof at !== 'string') return;
    const ms = Date.parse(at);
    if (Number.isFinite(ms)) points.push([ms / 1000, num(v)]);
  };
  const attrValue = body[attr];
  const instances = Array.isArray(attrValue) ? attrValue : attrValue ? [attrValue] : [];
  for (const inst of instances as Record<string, unknown>[]) {
    if (Array.isArray(inst.values)) {
      for (const pair of inst.values as unknown[][]) add(pair[0], pair[1]);  // temporalValues
    } else {
      add(inst.value, inst.observedAt);  // the normalized form
    }
  }
  points.sort((a, b) => a[0] - b[0]);
  return [points.map((p) => p[0]), points.map((p) => p[1])];
}

export const alertsApi = {
  list: (status: string, signal?: AbortSignal) =>
    call<{ items: Alert[]; next_cursor: string | null }>('GET', `/api/v1/alerts?status=${status}&limit=200`, undefined, signal),
  get: (id: string, signal?: AbortSignal) => call<Alert>('GET', `/api/v1/alerts/${encodeURIComponent(id)}`, undefined, signal),
  act: (id: string, action: 'acknowledge' | 'assign' | 'comment' | 'resolve', body: Record<string, unknown>) =>
    call<Alert>('POST', `/api/v1/alerts/${encodeURIComponent(id)}/actions/${action}`, body),
};

/** The alerts id of an Alert entity (urn:ngsi-ld:Alert:<id>). */
export function alertIdOf(entityId: string): string | null {
  const prefix = 'urn:ngsi-ld:Alert:';
  return entityId.startsWith(prefix) ? entityId.slice(prefix.length) : null;
}
