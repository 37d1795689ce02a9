// Trung tâm điều hành (/ops): the operations centre for operators and city admins. A map of Hà Nội
// drawn from our own data only (data/geo: the city's outline and its 126 units; the sensors at their
// own coordinates), live over the operations feed (server-sent events), the tiles of the city's state,
// the alert list with its actions, and a sensor's latest values with its history from the temporal
// API. Loaded lazily (its own chunk with Leaflet and the map data).
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import outlineText from '../../../data/geo/hanoi-outline.geojson?raw';
import unitsText from '../../../data/geo/hanoi-units.geojson?raw';
import { ApiError } from '../api';
import { t, tOr, useLang, locale } from '../i18n';
import { dateTimeText } from '../format';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Loading, useTitle } from '../ui';
import { followFeed } from './ops/events';
import {
  type Alert,
  type Sensor,
  alertIdOf,
  alertsApi,
  classify,
  computeTiles,
  countLights,
  fromKeyValues,
  isFaultyLight,
  loadFaultyLights,
  loadHistory,
  loadSensors,
  mainAttribute,
  num,
  pointOf,
  SENSOR_TYPES,
  sortAlerts,
  STREETLIGHT,
} from './ops/model';
import './Ops.css';

const OPS_ROLES = ['operator', 'city_admin'];

type FeedState = 'connecting' | 'open' | 'closed' | 'denied';

function fmt(n: number | null, digits = 0): string {
  if (n === null) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

function todayHanoi(offsetDays = 0): string {
  return new Date(Date.now() + 7 * 3600_000 + offsetDays * 86400_000).toISOString().slice(0, 10);
}

export function Ops() {
  const user = useUser();
  useTitle(t('ops.title'));
  if (!user || !OPS_ROLES.includes(user.role)) {
    return (
      <section>
        <h1>{t('ops.title')}</h1>
        <div class="alert alert-info" role="status">
          <p>{t('ops.noPermission')}</p>
        </div>
      </section>
    );
  }
  return <OpsCentre />;
}

function OpsCentre() {
  useLang();
  const sensors = useRef(new Map<string, Sensor>());
  const [version, setVersion] = useState(0);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [alerts, setAlerts] = useState<Map<string, Alert>>(new Map());
  const [alertsError, setAlertsError] = useState<unknown>(null);
  const [feed, setFeed] = useState<FeedState>('connecting');
  const [lastEventAt, setLastEventAt] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [focusAlert, setFocusAlert] = useState<string | null>(null);
  const [onTimeFallback, setOnTimeFallback] = useState<number | null>(null);
  const [lightsTotal, setLightsTotal] = useState<number | null>(null);

  // Many changes may arrive at once (a simulator's step): redraw at most every 400 ms.
  const pending = useRef<number | null>(null);
  const bump = useCallback(() => {
    if (pending.current !== null) return;
    pending.current = window.setTimeout(() => {
      pending.current = null;
      setVersion((v) => v + 1);
    }, 400);
  }, []);

  const upsertAlert = useCallback((a: Alert) => {
    setAlerts((m) => {
      const next = new Map(m);
      next.set(a.id, a);
      return next;
    });
  }, []);

  const loadAlerts = useCallback(async (signal?: AbortSignal) => {
    try {
      const lists = await Promise.all(['open', 'acknowledged', 'assigned'].map((s) => alertsApi.list(s, signal)));
      const next = new Map<string, Alert>();
      for (const l of lists) for (const a of l.items) next.set(a.id, a);
      setAlerts(next);
      setAlertsError(null);
    } catch (e) {
      if (!signal?.aborted) setAlertsError(e);
    }
  }, []);

  // The first picture: sensors and alerts; then the feed keeps both current.
  useEffect(() => {
    const ctl = new AbortController();
    loadSensors(ctl.signal).then(
      (list) => {
        for (const s of list) if (!sensors.current.has(s.id)) sensors.current.set(s.id, s);
        setLoaded(true);
        setVersion((v) => v + 1);
      },
      (e) => {
        if (ctl.signal.aborted) return;
        setLoadError(e);
        setLoaded(true);
      },
    );
    // Streetlights: the faulty ones join the map's sensors; the feed adds and removes them as their
    // status changes.
    loadFaultyLights(ctl.signal).then(
      ({ faulty, total }) => {
        for (const s of faulty) if (!sensors.current.has(s.id)) sensors.current.set(s.id, s);
        setLightsTotal(total);
        bump();
      },
      () => undefined,
    );
    void loadAlerts(ctl.signal);
    // A streetlight created or deleted changes the count of all of them: counted again, at most once a second.
    let recount: ReturnType<typeof setTimeout> | undefined;
    const recountLights = () => {
      if (recount !== undefined) return;
      recount = setTimeout(() => {
        recount = undefined;
        countLights(ctl.signal).then((n) => n !== null && setLightsTotal(n), () => undefined);
      }, 1000);
    };
    ctl.signal.addEventListener('abort', () => clearTimeout(recount));
    void followFeed(
      {
        onState: setFeed,
        onEvent: (ev) => {
          if (ev.event === 'deleted') {
            // A sensor or streetlight deleted through the API leaves the map at once.
            let gone: { id: string; type: string; deletedAt: string };
            try {
              gone = JSON.parse(ev.data);
            } catch {
              return;
            }
            setLastEventAt(gone.deletedAt);
            if (gone.type === STREETLIGHT) recountLights();
            if (sensors.current.delete(gone.id)) bump();
            return;
          }
          if (ev.event !== 'entity') return;
          let data: {
            id: string;
            type: string;
            version: number;
            attributes: Record<string, unknown>;
            location: Sensor['location'];
            modifiedAt: string;
            observedAt?: string | null;
          };
          try {
            data = JSON.parse(ev.data);
          } catch {
            return;
          }
          setLastEventAt(data.modifiedAt);
          if (data.type === 'Alert') {
            const id = alertIdOf(data.id);
            if (id) alertsApi.get(id).then(upsertAlert, () => undefined);
            return;
          }
          const light = data.type === STREETLIGHT;
          if (!light && !(SENSOR_TYPES as readonly string[]).includes(data.type)) return;
          if (light && data.version === 1) recountLights();  // a new one
          const s = fromKeyValues({ id: data.id, type: data.type, location: data.location, ...data.attributes });
          if (light && !isFaultyLight(s)) {
            if (sensors.current.delete(s.id)) bump();  // repaired: off the map
            return;
          }
          s.modifiedAt = data.modifiedAt;
          s.observedAt = data.observedAt ?? null;
          sensors.current.set(s.id, s);
          bump();
        },
      },
      ctl.signal,
    );
    // The one-stop shop's on-time rate, when no AdministrativeServiceIndex entities are published.
    fetch(`/api/v1/stats/service-index?unit=01&from=${todayHanoi(-29)}&to=${todayHanoi()}`, { signal: ctl.signal })
      .then((r) => (r.ok ? r.json() : null))
      .then((j: { indicators?: { key: string; rate: number | null }[] } | null) => {
        const rate = j?.indicators?.find((i) => i.key === 'progress.on_time')?.rate;
        if (typeof rate === 'number') setOnTimeFallback(rate);
      })
      .catch(() => undefined);
    return () => {
      ctl.abort();
      if (pending.current !== null) clearTimeout(pending.current);
    };
  }, [bump, loadAlerts, upsertAlert]);

  const tiles = useMemo(() => computeTiles(sensors.current.values()), [version]);
  const alertList = useMemo(() => sortAlerts([...alerts.values()]), [alerts]);
  const selectedSensor = selected ? sensors.current.get(selected) ?? null : null;

  return (
    <section class="ops" data-testid="ops">
      <div class="ops-head">
        <h1>{t('ops.title')}</h1>
        <p class={`ops-feed ops-feed-${feed}`} role="status" data-testid="feed-state" data-state={feed}>
          <span class="ops-dot" aria-hidden="true" />
          {t(`ops.feed.${feed}` as 'ops.feed.open')}
          {lastEventAt && feed === 'open' && <span class="muted"> · {t('ops.lastChange', { at: dateTimeText(lastEventAt) })}</span>}
        </p>
      </div>
      <TilesRow tiles={tiles} onTimeFallback={onTimeFallback} lightsTotal={lightsTotal} loaded={loaded} onSelect={setSelected} />
      {loadError !== null && <ErrorBox error={loadError} />}
      <div class="ops-grid">
        <div class="ops-map-col">
          <OpsMap
            sensors={sensors.current}
            version={version}
            alerts={alertList}
            selected={selected}
            onSelectSensor={setSelected}
            onSelectAlert={setFocusAlert}
          />
          {selectedSensor && <SensorPanel sensor={selectedSensor} version={version} onClose={() => setSelected(null)} />}
        </div>
        <div class="ops-side">
          <AlertList
            alerts={alertList}
            error={alertsError}
            focus={focusAlert}
            onChanged={upsertAlert}
            onReload={() => void loadAlerts()}
            onShowSensor={(id) => setSelected(sensors.current.has(id) ? id : null)}
          />
        </div>
      </div>
    </section>
  );
}

// --- Tiles -------------------------------------------------------------------------------------------

function Tile({
  label,
  value,
  detail,
  testid,
  tone,
  children,
}: {
  label: string;
  value: string;
  detail?: string;
  testid: string;
  tone?: string;
  children?: ComponentChildren;
}) {
  return (
    <div class={`ops-tile${tone ? ` ops-tone-${tone}` : ''}`} data-testid={testid}>
      <p class="ops-tile-label">{label}</p>
      <p class="ops-tile-value">{value}</p>
      {detail && <p class="ops-tile-detail muted">{detail}</p>}
      {children}
    </div>
  );
}

function TilesRow({
  tiles,
  onTimeFallback,
  lightsTotal,
  loaded,
  onSelect,
}: {
  tiles: ReturnType<typeof computeTiles>;
  onTimeFallback: number | null;
  lightsTotal: number | null;
  loaded: boolean;
  onSelect: (id: string) => void;
}) {
  if (!loaded) return <Loading />;
  const air = tiles.air;
  const airClass = classify({ id: '', type: 'AirQualityObserved', attributes: { pm25: air.average }, location: null });
  const onTime = tiles.onTime.rate ?? onTimeFallback;
  return (
    <div class="ops-tiles" role="list">
      <div role="listitem">
        <Tile
          testid="tile-air"
          label={t('ops.tile.air')}
          value={air.average === null ? '—' : `${fmt(air.average, 1)} µg/m³`}
          tone={airClass.key.replace('.', '-')}
          detail={
            air.average === null
              ? t('ops.tile.noStations')
              : `${tOr(`ops.class.${airClass.key}`, airClass.key)} · ${t('ops.tile.stations', { n: air.stations })}`
          }
        >
          {air.worst && (
            <button type="button" class="btn btn-small btn-ghost ops-worst" data-testid="tile-air-worst" onClick={() => onSelect(air.worst!.id)}>
              {t('ops.tile.worst', { name: air.worst.name ?? air.worst.id, value: fmt(air.worstPm25, 1) })}
            </button>
          )}
        </Tile>
      </div>
      <div role="listitem">
        <Tile
          testid="tile-traffic"
          label={t('ops.tile.traffic')}
          value={fmt(tiles.traffic.congested)}
          tone={tiles.traffic.congested > 0 ? 'warn' : undefined}
          detail={t('ops.tile.ofIntersections', { n: fmt(tiles.traffic.total) })}
        />
      </div>
      <div role="listitem">
        <Tile
          testid="tile-parking"
          label={t('ops.tile.parking')}
          value={fmt(tiles.parking.free)}
          detail={t('ops.tile.ofPlaces', { total: fmt(tiles.parking.total), n: fmt(tiles.parking.sites) })}
        />
      </div>
      <div role="listitem">
        <Tile
          testid="tile-flood"
          label={t('ops.tile.flood')}
          value={fmt(tiles.flood.flooded)}
          tone={tiles.flood.flooded > 0 ? 'bad' : undefined}
          detail={t('ops.tile.ofGauges', { n: fmt(tiles.flood.gauges) })}
        />
      </div>
      <div role="listitem">
        <Tile
          testid="tile-lights"
          label={t('ops.tile.lights')}
          value={fmt(tiles.lights.faulty)}
          tone={tiles.lights.faulty > 0 ? 'warn' : undefined}
          detail={lightsTotal === null ? undefined : t('ops.tile.ofLights', { n: fmt(lightsTotal) })}
        />
      </div>
      <div role="listitem">
        <Tile
          testid="tile-ontime"
          label={t('ops.tile.onTime')}
          value={onTime === null ? '—' : `${fmt(onTime * 100, 1)} %`}
          detail={tiles.onTime.rate !== null ? t('ops.tile.communes', { n: tiles.onTime.communes }) : t('ops.tile.last30')}
        />
      </div>
    </div>
  );
}

// --- The map -----------------------------------------------------------------------------------------

interface MapProps {
  sensors: Map<string, Sensor>;
  version: number;
  alerts: Alert[];
  selected: string | null;
  onSelectSensor: (id: string) => void;
  onSelectAlert: (id: string) => void;
}

function OpsMap({ sensors, version, alerts, selected, onSelectSensor, onSelectAlert }: MapProps) {
  const lang = useLang();
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layers = useRef<{ sensors: L.LayerGroup; alerts: L.LayerGroup; units: L.LayerGroup } | null>(null);
  const markers = useRef(new Map<string, L.CircleMarker>());
  const drawn = useRef(new Map<string, Sensor>());  // the state each marker shows (events replace the object)
  const drawnSelected = useRef<string | null>(null);
  const callbacks = useRef({ onSelectSensor, onSelectAlert });
  callbacks.current = { onSelectSensor, onSelectAlert };
  const [showUnits, setShowUnits] = useState(true);
  const [alertsOnMap, setAlertsOnMap] = useState(0);

  // The map, the outline and the units: once.
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const m = L.map(el, { zoomControl: true, attributionControl: true, zoomSnap: 0.25, minZoom: 8, maxZoom: 17 });
    const outline = L.geoJSON(JSON.parse(outlineText), {
      style: { color: '#8b1a1a', weight: 2, fillColor: '#fdf6e3', fillOpacity: 0.6 },
      interactive: false,
    }).addTo(m);
    const fit = () => m.fitBounds(outline.getBounds(), { padding: [8, 8] });
    fit();
    m.setMaxBounds(outline.getBounds().pad(0.5));
    m.attributionControl.setPrefix(false);
    m.attributionControl.addAttribution(t('ops.map.attribution'));
    const units = L.layerGroup();
    for (const f of JSON.parse(unitsText).features as { properties: { code: string; name: string }; geometry: { coordinates: [number, number] } }[]) {
      const [lon, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lon], { radius: 2.5, color: '#6b6b70', weight: 1, fillOpacity: 0.4, className: 'ops-unit' })
        .bindTooltip(`${f.properties.name} (${f.properties.code}) — ${t('ops.map.schematic')}`)
        .addTo(units);
    }
    units.addTo(m);
    const sensorLayer = L.layerGroup().addTo(m);
    const alertLayer = L.layerGroup().addTo(m);
    map.current = m;
    layers.current = { sensors: sensorLayer, alerts: alertLayer, units };
    // The container gets its final size after the first layout: fit again then, not after the user moved.
    let moved = false;
    m.on('dragstart', () => (moved = true));
    el.addEventListener('wheel', () => (moved = true), { passive: true });
    const observer = new ResizeObserver(() => {
      m.invalidateSize();
      if (!moved) fit();
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      m.remove();
      map.current = null;
      layers.current = null;
      markers.current.clear();
      drawn.current.clear();
    };
  }, [lang]);

  useEffect(() => {
    const l = layers.current;
    if (!l || !map.current) return;
    if (showUnits) l.units.addTo(map.current);
    else l.units.remove();
  }, [showUnits, lang]);

  // Sensors: one circle each, recoloured when their state (or the selection) changes; gone when the
  // sensor left the list (a repaired streetlight).
  useEffect(() => {
    const l = layers.current;
    if (!l) return;
    for (const [id, mk] of markers.current) {
      if (sensors.has(id)) continue;
      mk.remove();
      markers.current.delete(id);
      drawn.current.delete(id);
    }
    for (const s of sensors.values()) {
      const touched = s.id === selected || s.id === drawnSelected.current;
      if (drawn.current.get(s.id) === s && !touched) continue;
      drawn.current.set(s.id, s);
      const at = pointOf(s.location);
      if (!at) continue;
      const c = classify(s);
      let mk = markers.current.get(s.id);
      const style = { color: s.id === selected ? '#1d1d1f' : '#ffffff', weight: s.id === selected ? 3 : 1, fillColor: c.colour, fillOpacity: 0.9 };
      if (!mk) {
        mk = L.circleMarker(at, { radius: s.type === 'AirQualityObserved' ? 8 : s.type === STREETLIGHT ? 4 : 5, className: `ops-sensor ops-sensor-${s.type}`, ...style });
        const id = s.id;
        mk.on('click', () => callbacks.current.onSelectSensor(id));
        mk.addTo(l.sensors);
        markers.current.set(s.id, mk);
      } else {
        mk.setLatLng(at);
        mk.setStyle(style);
      }
      const tip = `${s.name ?? s.id} — ${tOr(`ops.class.${c.key}`, c.key)}`;
      if (mk.getTooltip()) mk.setTooltipContent(tip);
      else mk.bindTooltip(tip);
    }
    drawnSelected.current = selected;
  }, [version, selected, lang]);

  // Alerts not yet resolved: a ring at the alert's location, or at its sensor's.
  useEffect(() => {
    const l = layers.current;
    if (!l) return;
    l.alerts.clearLayers();
    let n = 0;
    for (const a of alerts) {
      if (a.status === 'resolved') continue;
      const at = pointOf(a.location) ?? pointOf(sensors.get(a.entity_id)?.location);
      if (!at) continue;
      n++;
      L.circleMarker(at, {
        radius: 15,
        color: a.status === 'open' ? '#d7191c' : '#ef7d00',
        weight: 3,
        fill: false,
        dashArray: a.status === 'open' ? undefined : '4 4',
        className: `ops-alert-marker ops-alert-${a.severity} ops-alert-status-${a.status}`,
      })
        .bindTooltip(`${a.title} — ${tOr(`ops.severity.${a.severity}`, a.severity)}`)
        .on('click', () => callbacks.current.onSelectAlert(a.id))
        .addTo(l.alerts);
    }
    setAlertsOnMap(n);
  }, [alerts, version, lang]);

  return (
    <figure class="ops-map-figure">
      <div ref={box} class="ops-map" data-testid="ops-map" role="region" aria-label={t('ops.map.label')} />
      <figcaption class="ops-legend">
        <span data-testid="map-alert-count" data-count={alertsOnMap}>
          {t('ops.map.alerts', { n: alertsOnMap })}
        </span>
        <label class="ops-units-toggle">
          <input type="checkbox" checked={showUnits} onChange={(e) => setShowUnits((e.target as HTMLInputElement).checked)} />{' '}
          {t('ops.map.units')}
        </label>
        <Legend />
      </figcaption>
    </figure>
  );
}

function Legend() {
  const items: [string, string][] = [
    ['aqi.good', '#2e9d48'],
    ['aqi.moderate', '#e3b505'],
    ['aqi.sensitive', '#ef7d00'],
    ['aqi.unhealthy', '#d7191c'],
    ['aqi.veryUnhealthy', '#7b2d8b'],
    ['aqi.hazardous', '#6b0f1a'],
  ];
  return (
    <details class="ops-legend-details">
      <summary>{t('ops.map.legend')}</summary>
      <ul class="ops-legend-list">
        {items.map(([k, c]) => (
          <li key={k}>
            <span class="ops-swatch" style={{ background: c }} aria-hidden="true" />
            {tOr(`ops.class.${k}`, k)}
          </li>
        ))}
        <li>{t('ops.map.legendOthers')}</li>
      </ul>
    </details>
  );
}

// --- A sensor: its latest values and its history ------------------------------------------------------

function valueText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return fmt(v, Number.isInteger(v) ? 0 : 2);
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function SensorPanel({ sensor, version, onClose }: { sensor: Sensor; version: number; onClose: () => void }) {
  const c = classify(sensor);
  const attr = mainAttribute(sensor.type);
  const entries = Object.entries(sensor.attributes).filter(([k]) => k !== 'name');
  return (
    <section class="panel ops-sensor-panel" data-testid="sensor-panel" aria-labelledby="ops-sensor-title">
      <div class="ops-panel-head">
        <h2 id="ops-sensor-title">{sensor.name ?? sensor.id}</h2>
        <button type="button" class="btn btn-small btn-secondary" onClick={onClose}>
          {t('ops.sensor.close')}
        </button>
      </div>
      <p class="muted">
        {tOr(`ops.type.${sensor.type}`, sensor.type)} · <code>{sensor.id}</code> · {tOr(`ops.class.${c.key}`, c.key)}
      </p>
      <table class="table ops-values" data-testid="sensor-values" data-version={version}>
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{tOr(`ops.attr.${k}`, k)}</th>
              <td>{valueText(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {attr && <History id={sensor.id} attr={attr} version={version} />}
    </section>
  );
}

function History({ id, attr, version }: { id: string; attr: string; version: number }) {
  const lang = useLang();
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [points, setPoints] = useState<number | null>(null);
  // Reload the history when the sensor changes, and at most once a minute as new values arrive.
  const [minute, setMinute] = useState(() => Math.floor(Date.now() / 60000));
  useEffect(() => setMinute(Math.floor(Date.now() / 60000)), [version]);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const ctl = new AbortController();
    let plot: uPlot | null = null;
    let observer: ResizeObserver | null = null;
    const since = new Date(Date.now() - 48 * 3600_000).toISOString();
    setError(null);
    Promise.all([loadHistory(id, attr, since, ctl.signal), import('uplot')]).then(
      ([[xs, ys], { default: UPlot }]) => {
        if (ctl.signal.aborted) return;
        setPoints(xs.length);
        el.replaceChildren();
        if (!xs.length) return;
        const size = () => ({ width: Math.max(el.clientWidth, 240), height: 200 });
        const opts: uPlot.Options = {
          ...size(),
          tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Asia/Ho_Chi_Minh'),
          scales: { x: { time: true } },
          legend: { live: true },
          series: [{}, { label: tOr(`ops.attr.${attr}`, attr), stroke: '#8b1a1a', width: 2, spanGaps: true, points: { show: xs.length <= 60 } }],
        };
        plot = new UPlot(opts, [xs, ys], el);
        observer = new ResizeObserver(() => plot?.setSize(size()));
        observer.observe(el);
      },
      (e) => !ctl.signal.aborted && setError(e),
    );
    return () => {
      ctl.abort();
      observer?.disconnect();
      plot?.destroy();
    };
  }, [id, attr, minute, lang]);
  return (
    <figure class="ops-history">
      <figcaption>{t('ops.sensor.history', { attr: tOr(`ops.attr.${attr}`, attr) })}</figcaption>
      <div ref={box} class="ops-history-box" data-testid="history-chart" data-points={points ?? ''} />
      {points === 0 && <p class="muted">{t('ops.sensor.noHistory')}</p>}
      {error !== null && (
        <p class="muted" role="status">
          {error instanceof ApiError && error.status === 404 ? t('ops.sensor.noHistoryApi') : errorMessage(error)}
        </p>
      )}
    </figure>
  );
}

// --- Alerts ------------------------------------------------------------------------------------------

function AlertList({
  alerts,
  error,
  focus,
  onChanged,
  onReload,
  onShowSensor,
}: {
  alerts: Alert[];
  error: unknown;
  focus: string | null;
  onChanged: (a: Alert) => void;
  onReload: () => void;
  onShowSensor: (entityId: string) => void;
}) {
  const open = alerts.filter((a) => a.status === 'open').length;
  useEffect(() => {
    if (focus) document.getElementById(`alert-${focus}`)?.scrollIntoView({ block: 'nearest' });
  }, [focus]);
  return (
    <section class="panel ops-alerts" aria-labelledby="ops-alerts-title">
      <div class="ops-panel-head">
        <h2 id="ops-alerts-title">
          {t('ops.alerts.title')}{' '}
          <span class="badge" data-testid="open-alerts">
            {open}
          </span>
        </h2>
        <button type="button" class="btn btn-small btn-secondary" onClick={onReload}>
          {t('ops.alerts.reload')}
        </button>
      </div>
      {error !== null &&
        (error instanceof ApiError && error.status === 404 ? (
          <p class="muted">{t('ops.alerts.unavailable')}</p>
        ) : (
          <ErrorBox error={error} onRetry={onReload} />
        ))}
      {error === null && alerts.length === 0 && <p class="muted">{t('ops.alerts.none')}</p>}
      <ol class="ops-alert-list" data-testid="alert-list">
        {alerts.map((a) => (
          <AlertItem key={a.id} alert={a} focused={a.id === focus} onChanged={onChanged} onShowSensor={onShowSensor} />
        ))}
      </ol>
    </section>
  );
}

function AlertItem({
  alert: a,
  focused,
  onChanged,
  onShowSensor,
}: {
  alert: Alert;
  focused: boolean;
  onChanged: (a: Alert) => void;
  onShowSensor: (entityId: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [assignee, setAssignee] = useState('');
  const [text, setText] = useState('');
  const act = async (action: 'acknowledge' | 'assign' | 'comment' | 'resolve', body: Record<string, unknown>) => {
    setBusy(true);
    setMessage(null);
    try {
      onChanged(await alertsApi.act(a.id, action, { version: a.version, ...body }));
      setText('');
      setAssignee('');
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 412)) {
        setMessage(t('ops.alerts.conflict'));
        alertsApi.get(a.id).then(onChanged, () => undefined);
      } else {
        setMessage(errorMessage(e));
      }
    } finally {
      setBusy(false);
    }
  };
  const submit = (fn: () => void) => (e: JSX.TargetedEvent<HTMLFormElement>) => {
    e.preventDefault();
    fn();
  };
  const resolved = a.status === 'resolved';
  return (
    <li id={`alert-${a.id}`} class={`ops-alert ops-sev-${a.severity}${focused ? ' ops-alert-focused' : ''}`} data-testid="alert" data-alert-id={a.id} data-entity-id={a.entity_id}>
      <div class="ops-alert-top">
        <span class={`pill ops-sev-pill ops-sev-pill-${a.severity}`}>{tOr(`ops.severity.${a.severity}`, a.severity)}</span>
        <strong class="ops-alert-title">{a.title}</strong>
      </div>
      <p class="ops-alert-meta muted">
        <span data-testid="alert-status" data-status={a.status}>
          {tOr(`ops.status.${a.status}`, a.status)}
        </span>
        {' · '}
        {dateTimeText(a.raised_at)}
        {a.value !== undefined && a.value !== null && (
          <>
            {' · '}
            {t('ops.alerts.value', { value: valueText(num(a.value) ?? a.value), threshold: valueText(num(a.threshold) ?? a.threshold) })}
          </>
        )}
        {a.assignee && <> · {t('ops.alerts.assignee', { name: a.assignee })}</>}
        {a.acknowledged_by && <> · {t('ops.alerts.ackBy', { name: a.acknowledged_by })}</>}
        {a.escalated && <> · <strong>{t('ops.alerts.escalated')}</strong></>}
        {a.condition_cleared && <> · {t('ops.alerts.cleared')}</>}
      </p>
      {a.description && <p class="ops-alert-desc">{a.description}</p>}
      <div class="ops-alert-actions">
        <button type="button" class="btn btn-small btn-secondary" onClick={() => onShowSensor(a.entity_id)}>
          {t('ops.alerts.showSensor')}
        </button>
        {a.status === 'open' && (
          <button type="button" class="btn btn-small btn-primary" disabled={busy} data-testid="alert-ack" onClick={() => void act('acknowledge', {})}>
            {t('ops.alerts.acknowledge')}
          </button>
        )}
      </div>
      {!resolved && (
        <details class="ops-alert-more">
          <summary>{t('ops.alerts.more')}</summary>
          <form class="ops-inline-form" onSubmit={submit(() => assignee.trim() && void act('assign', { assignee: assignee.trim() }))}>
            <label>
              {t('ops.alerts.assignTo')}
              <input value={assignee} maxLength={100} onInput={(e) => setAssignee((e.target as HTMLInputElement).value)} />
            </label>
            <button type="submit" class="btn btn-small btn-secondary" disabled={busy || !assignee.trim()}>
              {t('ops.alerts.assign')}
            </button>
          </form>
          <form class="ops-inline-form" onSubmit={submit(() => text.trim() && void act('comment', { text: text.trim() }))}>
            <label>
              {t('ops.alerts.note')}
              <input value={text} maxLength={1000} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
            </label>
            <button type="submit" class="btn btn-small btn-secondary" disabled={busy || !text.trim()}>
              {t('ops.alerts.comment')}
            </button>
            <button type="button" class="btn btn-small btn-secondary" disabled={busy} onClick={() => void act('resolve', text.trim() ? { note: text.trim() } : {})}>
              {t('ops.alerts.resolve')}
            </button>
          </form>
          {a.comments && a.comments.length > 0 && (
            <ul class="ops-comments">
              {a.comments.map((c, i) => (
                <li key={i}>
                  <span class="muted">
                    {c.by} · {dateTimeText(c.at)}:
                  </span>{' '}
                  {c.text}
                </li>
              ))}
            </ul>
          )}
        </details>
      )}
      {message && (
        <p class="form-error" role="alert">
          {message}
        </p>
      )}
    </li>
  );
}
