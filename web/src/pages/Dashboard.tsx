// The service-index dashboard (Decision 766/QĐ-TTg): the city's or a commune's index over a period,
// a tile per indicator group, the ranking of Hà Nội's communes and a chart over time. Public, like
// GET /api/v1/stats/service-index*. State lives in the URL: ?unit=&period=30|90|365|custom&from=&to=&interval=.
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './Dashboard.css';
import { api, ApiError, type AdminUnit, type Problem } from '../api';
import { locale, t, tOr, useLang } from '../i18n';
import { Link, navigate, useLocation, withQuery } from '../router';
import { ErrorBox, Field, Loading, useAsync, useTitle } from '../ui';

const CITY = '01';
const PRESETS = ['30', '90', '365'] as const;
const GROUPS = ['progress', 'online_service', 'online_payment', 'digitisation', 'satisfaction', 'transparency'];
const ON_TIME = 'progress.on_time';
const MAX_BUCKETS = 400;
/** How many of the best and the worst ranked communes are highlighted. */
const HIGHLIGHT = 5;
const INK = '#5a5a61';
const GRID = '#eeeeef';

interface IndicatorDef {
  key: string;
  group: string;
  label_vi: string;
  points: number;
  target: number;
}

interface IndicatorValue {
  key: string;
  numerator: number | null;
  denominator: number | null;
  rate: number | null;
  score: number | null;
}

interface IndexResult {
  unit: string;
  from: string;
  to: string;
  score: number;
  possible: number;
  score_100: number;
  received: number;
  resolved: number;
  overdue: number;
  indicators: (IndicatorDef & IndicatorValue & { measured: boolean })[];
}

interface RankingItem {
  unit: string;
  rank: number;
  score_100: number;
  received: number;
  resolved: number;
  overdue: number;
}

interface SeriesBucket {
  from: string;
  to: string;
  score: number;
  possible: number;
  score_100: number | null;
  received: number;
  indicators: IndicatorValue[];
}

interface Series {
  unit: string;
  interval: string;
  indicators: IndicatorDef[];
  buckets: SeriesBucket[];
}

/** GET a public stats route; failures become ApiError like the shared client's. */
async function getJson<T>(path: string, params: Record<string, string>, signal: AbortSignal): Promise<T> {
  const res = await fetch(`/api/v1${withQuery(path, params)}`, {
    headers: { Accept: 'application/json' },
    signal,
    credentials: 'same-origin',
  });
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const problem: Problem =
      data && typeof data === 'object' ? (data as Problem) : { status: res.status, title: res.statusText };
    throw new ApiError(res.status, problem);
  }
  return data as T;
}

// Dates are Hà Nội calendar dates "YYYY-MM-DD", whatever the browser's time zone.
function hanoiToday(): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Ho_Chi_Minh',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

function addDays(date: string, n: number): string {
  return new Date(dayMs(date) + n * 86400000).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return Math.round((dayMs(to) - dayMs(from)) / 86400000) + 1;
}

/** The interval that gives a readable chart: days up to a month, weeks up to half a year, else months. */
function autoInterval(days: number): string {
  if (days <= 31) return 'day';
  if (days <= 190) return 'week';
  return 'month';
}

function num(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

/** A score with one decimal, always: 100,0 and 96,9 line up in the ranking. */
function fixed1(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n);
}

function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

function shortDate(date: string, withYear = false): string {
  return new Intl.DateTimeFormat(locale(), {
    timeZone: 'UTC',
    day: '2-digit',
    month: '2-digit',
    ...(withYear ? { year: 'numeric' } : {}),
  }).format(dayMs(date));
}

function bucketLabel(b: { from: string; to: string }, interval: string): string {
  if (interval === 'month') {
    const month = new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', month: 'short', year: 'numeric' });
    return month.format(dayMs(b.from));
  }
  return b.from === b.to ? shortDate(b.from, true) : `${shortDate(b.from)}–${shortDate(b.to, true)}`;
}

/** The indicator's name: the rules file's Vietnamese label in Vietnamese, ours in English. */
function indicatorLabel(d: { key: string; label_vi: string }): string {
  return tOr(`dash.ind.${d.key}`, d.label_vi);
}

function groupLabel(group: string): string {
  return tOr(`dash.group.${group}`, group);
}

function Tiles({ index, rank, ranked }: { index: IndexResult; rank?: number; ranked: number }) {
  const others = index.indicators.map((i) => i.group).filter((g, n, a) => !GROUPS.includes(g) && a.indexOf(g) === n);
  const groups = GROUPS.concat(others);
  return (
    <div class="dash-tiles" data-testid="tiles">
      <section class="dash-tile dash-total" aria-labelledby="tile-total">
        <h3 id="tile-total">{t('dash.total')}</h3>
        <div class="dash-total-body">
          <div>
            <p class="dash-big" data-testid="total-score" data-value={index.score_100}>
              {fixed1(index.score_100)}
              <span class="dash-of"> / 100</span>
            </p>
            <p class="dash-sub">
              {t('dash.points', { score: num(index.score), possible: num(index.possible, 0) })}
              {rank !== undefined && (
                <>
                  <br />
                  <strong data-testid="unit-rank">{t('dash.rankOf', { rank, n: ranked })}</strong>
                </>
              )}
            </p>
          </div>
          <dl class="dash-counts">
            <div>
              <dt>{t('dash.received')}</dt>
              <dd data-testid="total-received">{num(index.received, 0)}</dd>
            </div>
            <div>
              <dt>{t('dash.resolved')}</dt>
              <dd>{num(index.resolved, 0)}</dd>
            </div>
            <div>
              <dt>{t('dash.overdue')}</dt>
              <dd>{num(index.overdue, 0)}</dd>
            </div>
          </dl>
        </div>
      </section>
      {groups.map((g) => {
        const list = index.indicators.filter((i) => i.group === g);
        if (!list.length) return null;
        const measured = list.filter((i) => i.score !== null);
        const score = measured.reduce((s, i) => s + (i.score ?? 0), 0);
        const points = list.reduce((s, i) => s + i.points, 0);
        const possible = measured.reduce((s, i) => s + i.points, 0);
        const share = possible > 0 ? score / possible : null;
        const level = share === null ? 'none' : share >= 0.9 ? 'good' : share >= 0.7 ? 'fair' : 'poor';
        return (
          <section key={g} class={`dash-tile dash-level-${level}`} aria-labelledby={`tile-${g}`} data-group={g}>
            <h3 id={`tile-${g}`}>{groupLabel(g)}</h3>
            <p class="dash-big">
              {measured.length ? fixed1(score) : '—'}
              <span class="dash-of"> / {num(points, 0)}</span>
            </p>
            <p class="dash-sub">{measured.length ? t('dash.pointsShort') : t('dash.noData')}</p>
            <ul class="dash-indicators">
              {list.map((i) => (
                <li key={i.key}>
                  <span class="dash-ind-label">{indicatorLabel(i)}</span>
                  <span class="dash-ind-value">
                    {i.measured === false ? (
                      t('dash.notMeasured')
                    ) : (
                      <>
                        <strong>{pct(i.rate)}</strong>{' '}
                        <span class="muted">
                          ({num(i.numerator, 0)}/{num(i.denominator, 0)}; {t('dash.target', { target: pct(i.target) })})
                        </span>
                      </>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

function Chart({ series }: { series: Series }) {
  const lang = useLang();
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<unknown>(null);
  const buckets = series.buckets;
  const onTimeAt = series.indicators.findIndex((d) => d.key === ON_TIME);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    let plot: uPlot | null = null;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    const size = () => ({ width: Math.max(el.clientWidth, 240), height: el.clientWidth < 560 ? 220 : 300 });
    // uPlot is loaded with the dashboard only (its own chunk), not with every page.
    import('uplot').then(
      ({ default: UPlot }) => {
        if (cancelled) return;
        const xs = buckets.map((b) => dayMs(b.from) / 1000);
        const scores = buckets.map((b) => b.score_100);
        const onTime = buckets.map((b) => {
          const rate = onTimeAt >= 0 ? b.indicators[onTimeAt]?.rate : null;
          return rate === null || rate === undefined ? null : rate * 100;
        });
        const label = (v: number | null) => {
          const i = v === null ? -1 : xs.indexOf(v);
          return i >= 0 ? bucketLabel(buckets[i], series.interval) : '';
        };
        // "24/10" for days and weeks, "10/2026" for months, in both languages.
        const tick = (s: number) => {
          const d = new Date(s * 1000).toISOString();
          return series.interval === 'month' ? `${d.slice(5, 7)}/${d.slice(0, 4)}` : `${d.slice(8, 10)}/${d.slice(5, 7)}`;
        };
        const opts: uPlot.Options = {
          ...size(),
          tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
          scales: { x: { time: true }, y: { range: [0, 100] } },
          cursor: { y: false, points: { size: 7 } },
          legend: { live: true },
          axes: [
            { values: (_u, splits) => splits.map(tick), stroke: INK, grid: { stroke: GRID } },
            { values: (_u, splits) => splits.map((s) => `${s}`), stroke: INK, grid: { stroke: GRID }, size: 40 },
          ],
          series: [
            { label: t('dash.chartPeriod'), value: (_u, v) => label(v) },
            {
              label: t('dash.chartScore'),
              stroke: '#8b1a1a',
              width: 2,
              spanGaps: true,
              points: { show: buckets.length <= 60, size: 5 },
              value: (_u, v) => num(v),
            },
            {
              label: t('dash.chartOnTime'),
              stroke: '#2a5db0',
              width: 2,
              dash: [6, 4],
              spanGaps: true,
              points: { show: buckets.length <= 60, size: 5 },
              value: (_u, v) => (v === null ? '—' : `${num(v)} %`),
            },
          ],
        };
        el.replaceChildren();
        plot = new UPlot(opts, [xs, scores, onTime], el);
        el.dataset.drawn = String(buckets.length);
        observer = new ResizeObserver(() => plot?.setSize(size()));
        observer.observe(el);
      },
      (e) => !cancelled && setFailed(e),
    );
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
      delete el.dataset.drawn;
    };
  }, [series, lang]);

  return (
    <figure class="dash-chart">
      <div ref={box} class="dash-chart-box" data-testid="chart" role="img" aria-label={t('dash.chartAlt')} />
      {failed !== null && <ErrorBox error={failed} />}
      <figcaption class="muted">
        {t('dash.chartCaption', { interval: tOr(`dash.interval.${series.interval}`, series.interval).toLowerCase() })}
      </figcaption>
      <details class="dash-data">
        <summary>{t('dash.chartData')}</summary>
        <div class="dash-scroll">
          <table class="rank-table">
            <thead>
              <tr>
                <th scope="col">{t('dash.chartPeriod')}</th>
                <th scope="col">{t('dash.chartScore')}</th>
                <th scope="col">{t('dash.chartOnTime')}</th>
                <th scope="col">{t('dash.received')}</th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr key={b.from}>
                  <th scope="row">{bucketLabel(b, series.interval)}</th>
                  <td>{num(b.score_100)}</td>
                  <td>{onTimeAt >= 0 ? pct(b.indicators[onTimeAt]?.rate) : '—'}</td>
                  <td>{num(b.received, 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

type SortKey = 'rank' | 'name' | 'score_100' | 'received' | 'resolved' | 'overdue';

interface Row {
  code: string;
  name: string;
  item?: RankingItem;
}

function Ranking({
  items,
  communes,
  selected,
  hrefFor,
}: {
  items: RankingItem[];
  communes: AdminUnit[];
  selected: string;
  hrefFor: (unit: string) => string;
}) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'rank', desc: false });
  const byUnit = new Map(items.map((i) => [i.unit, i]));
  const known = new Set(communes.map((c) => c.code));
  // Every commune of the city; those without dossiers in the period are listed after the ranked ones.
  const rows: Row[] = communes
    .map((c) => ({ code: c.code, name: c.name, item: byUnit.get(c.code) }))
    .concat(items.filter((i) => !known.has(i.unit)).map((i) => ({ code: i.unit, name: i.unit, item: i })));
  const collator = new Intl.Collator(locale());
  const value = (r: Row): number | undefined => {
    if (!r.item) return undefined;
    return r.item[sort.key as Exclude<SortKey, 'name'>];
  };
  rows.sort((a, b) => {
    if (sort.key === 'name') return (sort.desc ? -1 : 1) * collator.compare(a.name, b.name);
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) {
      if (va !== vb) return va === undefined ? 1 : -1; // unranked last, whichever the direction
      return collator.compare(a.name, b.name);
    }
    return (sort.desc ? vb - va : va - vb) || collator.compare(a.name, b.name);
  });
  const ranked = items.length;
  const band = Math.min(HIGHLIGHT, Math.floor(ranked / 2));
  const header = (key: SortKey, label: string, cls?: string) => {
    const active = sort.key === key;
    return (
      <th scope="col" class={cls} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : undefined}>
        <button
          type="button"
          class="sort-button"
          data-sort={key}
          onClick={() => setSort({ key, desc: active ? !sort.desc : key !== 'rank' && key !== 'name' })}
        >
          {label}
          <span aria-hidden="true" class="sort-mark">
            {active ? (sort.desc ? '▼' : '▲') : '↕'}
          </span>
        </button>
      </th>
    );
  };
  return (
    <div class="dash-scroll">
      <table class="rank-table ranking" data-testid="ranking">
        <caption class="visually-hidden">{t('dash.rankingCaption')}</caption>
        <thead>
          <tr>
            {header('rank', t('dash.colRank'))}
            {header('name', t('dash.colCommune'))}
            {header('score_100', t('dash.colScore'), 'num')}
            {header('received', t('dash.received'), 'num')}
            {header('resolved', t('dash.resolved'), 'num hide-phone')}
            {header('overdue', t('dash.overdue'), 'num hide-phone')}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const i = r.item;
            const top = i && i.rank <= band;
            const bottom = i && i.rank > ranked - band;
            const cls = [
              top && 'rank-top',
              bottom && 'rank-bottom',
              r.code === selected && 'rank-selected',
              !i && 'rank-none',
            ]
              .filter(Boolean)
              .join(' ');
            return (
              <tr key={r.code} data-unit={r.code} data-rank={i?.rank ?? ''} class={cls || undefined}>
                <td class="num">
                  {i ? i.rank : '—'}
                  {top && <span class="visually-hidden"> ({t('dash.top')})</span>}
                  {bottom && <span class="visually-hidden"> ({t('dash.bottom')})</span>}
                </td>
                <td>
                  <Link
                    href={hrefFor(r.code)}
                    aria-current={r.code === selected ? 'true' : undefined}
                    onClick={() => requestAnimationFrame(() => document.getElementById('dash-index')?.scrollIntoView())}
                  >
                    {r.name}
                  </Link>
                </td>
                <td class="num">{i ? fixed1(i.score_100) : <span class="muted">{t('dash.noDossiers')}</span>}</td>
                <td class="num">{i ? num(i.received, 0) : '0'}</td>
                <td class="num hide-phone">{i ? num(i.resolved, 0) : '0'}</td>
                <td class="num hide-phone">{i ? num(i.overdue, 0) : '0'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Dashboard() {
  useLang();
  useTitle(t('dash.title'));
  const loc = useLocation();
  const q = loc.search;
  const unit = q.get('unit') || CITY;
  const preset = q.get('period') ?? '30';
  const isCustom = preset === 'custom';
  const today = hanoiToday();
  const days = (PRESETS as readonly string[]).includes(preset) ? Number(preset) : 30;
  const from = isCustom ? (q.get('from') ?? addDays(today, -29)) : addDays(today, -(days - 1));
  const to = isCustom ? (q.get('to') ?? today) : today;
  const validDates = DATE_RE.test(from) && DATE_RE.test(to);
  const span = validDates ? daysBetween(from, to) : 0;
  const requested = q.get('interval') ?? '';
  const interval = ['day', 'week', 'month'].includes(requested) ? requested : autoInterval(span);

  const state = { unit, period: preset, from, to, interval: requested };
  const href = (next: Partial<typeof state>) => {
    const s = { ...state, ...next };
    return withQuery('/dashboard', {
      unit: s.unit === CITY ? undefined : s.unit,
      period: s.period === '30' ? undefined : s.period,
      from: s.period === 'custom' ? s.from : undefined,
      to: s.period === 'custom' ? s.to : undefined,
      interval: s.interval || undefined,
    });
  };

  const [customFrom, setCustomFrom] = useState(from);
  const [customTo, setCustomTo] = useState(to);
  const [customError, setCustomError] = useState('');
  useEffect(() => {
    setCustomFrom(from);
    setCustomTo(to);
  }, [from, to]);

  const communes = useAsync((signal) => api.communes(CITY, signal), []);
  const index = useAsync(
    (signal) => getJson<IndexResult>('/stats/service-index', { unit, from, to }, signal),
    [unit, from, to],
  );
  const ranking = useAsync(
    (signal) => getJson<{ items: RankingItem[] }>('/stats/service-index/ranking', { from, to }, signal),
    [from, to],
  );
  const series = useAsync(
    (signal) => getJson<Series>('/stats/service-index/series', { unit, from, to, interval }, signal),
    [unit, from, to, interval],
  );

  const units = communes.data?.items ?? [];
  const collator = new Intl.Collator(locale());
  const sortedUnits = [...units].sort((a, b) => collator.compare(a.name, b.name));
  const unitName = unit === CITY ? t('dash.city') : (units.find((u) => u.code === unit)?.name ?? unit);
  const ranked = ranking.data?.items ?? [];
  const unitRank = unit === CITY ? undefined : ranked.find((i) => i.unit === unit)?.rank;

  const onCustom = (e: Event) => {
    e.preventDefault();
    if (!DATE_RE.test(customFrom) || !DATE_RE.test(customTo)) return setCustomError(t('dash.customRequired'));
    if (customTo < customFrom) return setCustomError(t('dash.customOrder'));
    setCustomError('');
    navigate(href({ period: 'custom', from: customFrom, to: customTo }));
  };

  return (
    <>
      <h1>{t('dash.title')}</h1>
      <p class="lead">{t('dash.lead')}</p>

      <form class="panel dash-controls" onSubmit={onCustom} aria-label={t('dash.controls')}>
        <Field id="dash-unit" label={t('dash.unit')}>
          <select
            id="dash-unit"
            value={unit}
            onChange={(e) => navigate(href({ unit: e.currentTarget.value }))}
          >
            <option value={CITY}>{t('dash.city')}</option>
            {sortedUnits.map((u) => (
              <option key={u.code} value={u.code}>
                {u.name}
              </option>
            ))}
            {unit !== CITY && !units.some((u) => u.code === unit) && <option value={unit}>{unit}</option>}
          </select>
        </Field>
        <Field id="dash-period" label={t('dash.period')}>
          <select
            id="dash-period"
            value={isCustom ? 'custom' : String(days)}
            onChange={(e) => {
              const v = e.currentTarget.value;
              navigate(href(v === 'custom' ? { period: v, from, to } : { period: v }));
            }}
          >
            {PRESETS.map((p) => (
              <option key={p} value={p}>
                {t('dash.lastDays', { n: p })}
              </option>
            ))}
            <option value="custom">{t('dash.custom')}</option>
          </select>
        </Field>
        <Field id="dash-interval" label={t('dash.interval')}>
          <select
            id="dash-interval"
            value={requested}
            onChange={(e) => navigate(href({ interval: e.currentTarget.value }))}
          >
            <option value="">
              {t('dash.interval.auto', { interval: tOr(`dash.interval.${autoInterval(span)}`, '').toLowerCase() })}
            </option>
            <option value="day" disabled={span > MAX_BUCKETS}>
              {t('dash.interval.day')}
            </option>
            <option value="week">{t('dash.interval.week')}</option>
            <option value="month">{t('dash.interval.month')}</option>
          </select>
        </Field>
        {isCustom && (
          <div class="dash-custom">
            <Field id="dash-from" label={t('dash.from')}>
              <input
                id="dash-from"
                type="date"
                value={customFrom}
                max={today}
                onInput={(e) => setCustomFrom(e.currentTarget.value)}
              />
            </Field>
            <Field id="dash-to" label={t('dash.to')}>
              <input
                id="dash-to"
                type="date"
                value={customTo}
                max={today}
                onInput={(e) => setCustomTo(e.currentTarget.value)}
              />
            </Field>
            <div class="field dash-apply">
              <button type="submit" class="btn btn-primary">
                {t('dash.apply')}
              </button>
            </div>
            <p class="form-error" role="alert">
              {customError}
            </p>
          </div>
        )}
      </form>

      <p class="dash-scope" role="status" aria-live="polite" data-testid="dash-scope">
        {t('dash.scope', { unit: unitName, from: shortDate(from, true), to: shortDate(to, true) })}
        {unit !== CITY && (
          <>
            {' '}
            <Link href={href({ unit: CITY })}>{t('dash.backToCity')}</Link>
          </>
        )}
      </p>

      <section aria-labelledby="dash-index" aria-busy={index.loading}>
        <h2 id="dash-index">{t('dash.indexTitle', { unit: unitName })}</h2>
        {index.loading && !index.data && <Loading />}
        {index.error !== undefined && <ErrorBox error={index.error} onRetry={index.reload} />}
        {index.data && index.error === undefined && <Tiles index={index.data} rank={unitRank} ranked={ranked.length} />}
      </section>

      <section aria-labelledby="dash-trend" aria-busy={series.loading}>
        <h2 id="dash-trend">{t('dash.trendTitle')}</h2>
        {series.loading && !series.data && <Loading />}
        {series.error !== undefined && <ErrorBox error={series.error} onRetry={series.reload} />}
        {series.data && series.error === undefined && <Chart series={series.data} />}
      </section>

      <section aria-labelledby="dash-ranking" aria-busy={ranking.loading || communes.loading}>
        <h2 id="dash-ranking">{t('dash.rankingTitle')}</h2>
        <p class="muted" data-testid="ranking-count">
          {ranking.data && communes.data && t('dash.rankingCount', { ranked: ranked.length, n: units.length })}
        </p>
        {(ranking.loading || communes.loading) && !(ranking.data && communes.data) && <Loading />}
        {ranking.error !== undefined && <ErrorBox error={ranking.error} onRetry={ranking.reload} />}
        {communes.error !== undefined && <ErrorBox error={communes.error} onRetry={communes.reload} />}
        {ranking.data && communes.data && (
          <Ranking items={ranked} communes={units} selected={unit} hrefFor={(u) => href({ unit: u })} />
        )}
      </section>
    </>
  );
}
