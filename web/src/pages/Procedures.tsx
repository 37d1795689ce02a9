import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ProcedureSummary } from '../api';
import { t } from '../i18n';
import { levelsText, processingText } from '../format';
import { Link, locationStore, navigate, useLocation, withQuery } from '../router';
import { ErrorBox, Field, LoadMore, useAsync, useTitle } from '../ui';

const PAGE_SIZE = 20;
const LEVELS = ['province', 'commune'] as const;

interface Results {
  items: ProcedureSummary[];
  next: string | null;
  total?: number;
}

export function Procedures() {
  useTitle(t('proc.title'));
  const loc = useLocation();
  const q = loc.search.get('q') ?? '';
  const sector = loc.search.get('sector') ?? '';
  const level = loc.search.get('level') ?? '';

  // The text box follows the URL (back/forward, links) and updates it while typing (debounced).
  const [text, setText] = useState(q);
  useEffect(() => {
    // Don't fight the user: only replace the text if it doesn't already stand for `q`
    // (typing "dang ky " must keep its trailing space).
    if (text.trim().normalize('NFC') !== q) setText(q);
  }, [q]);
  const timer = useRef<number>();
  const go = (params: { q?: string; sector?: string; level?: string }) => {
    window.clearTimeout(timer.current);
    const cur = locationStore.get().search; // read at call time: the debounce timer may fire late
    const next = { q: cur.get('q') ?? '', sector: cur.get('sector') ?? '', level: cur.get('level') ?? '', ...params };
    navigate(withQuery('/procedures', next), { replace: true });
  };
  const search = (value: string) => go({ q: value.trim().normalize('NFC') });
  const onInput = (value: string) => {
    setText(value);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => search(value), 300);
  };
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const sectors = useAsync(() => api.sectors(), []);

  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const reqId = useRef(0);

  const load = async (cursor: string | null) => {
    const id = ++reqId.current;
    setLoading(true);
    setError(null);
    try {
      const page = await api.procedures({ q, sector, level, limit: PAGE_SIZE, cursor });
      if (id !== reqId.current) return;
      setResults((prev) => ({
        items: cursor && prev ? [...prev.items, ...page.items] : page.items,
        next: page.next_cursor,
        total: page.total ?? prev?.total,
      }));
    } catch (e) {
      if (id === reqId.current) setError(e);
    } finally {
      if (id === reqId.current) setLoading(false);
    }
  };

  useEffect(() => {
    setResults(null);
    void load(null);
  }, [q, sector, level, tick]);

  const count = results
    ? results.total !== undefined
      ? results.items.length < results.total
        ? t('proc.shownOf', { shown: results.items.length, n: results.total })
        : t('proc.count', { n: results.total })
      : results.next
        ? t('proc.shown', { n: results.items.length })
        : t('proc.count', { n: results.items.length })
    : '';

  return (
    <>
      <h1>{t('proc.title')}</h1>
      <form
        class="search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          search(text);
        }}
      >
        <Field id="proc-q" label={t('proc.searchLabel')} hint={t('proc.searchHint')}>
          <div class="search-row">
            <input
              id="proc-q"
              name="q"
              type="search"
              value={text}
              placeholder={t('proc.searchPlaceholder')}
              aria-describedby="proc-q-hint"
              autocomplete="off"
              onInput={(e) => onInput(e.currentTarget.value)}
            />
            <button type="submit" class="btn btn-primary">
              {t('common.search')}
            </button>
          </div>
        </Field>
        <div class="filters">
          <Field id="proc-sector" label={t('proc.sector')}>
            <select id="proc-sector" name="sector" value={sector} onChange={(e) => go({ sector: e.currentTarget.value })}>
              <option value="">{t('common.all')}</option>
              {sector && !sectors.data?.items.some((s) => s.name === sector) && <option value={sector}>{sector}</option>}
              {sectors.data?.items.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name} ({s.count})
                </option>
              ))}
            </select>
          </Field>
          <Field id="proc-level" label={t('proc.level')}>
            <select id="proc-level" name="level" value={level} onChange={(e) => go({ level: e.currentTarget.value })}>
              <option value="">{t('common.all')}</option>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {t(`level.${l}`)}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </form>

      <section aria-labelledby="results-title" class="results-section">
        <h2 id="results-title" class="visually-hidden">
          {t('proc.results')}
        </h2>
        <p class="result-count" role="status" aria-live="polite" data-testid="result-count">
          {loading && !results ? t('common.loading') : count}
        </p>
        {error !== null && <ErrorBox error={error} onRetry={() => setTick((n) => n + 1)} />}
        {results && results.items.length === 0 && <p class="empty">{t('proc.none')}</p>}
        {results && results.items.length > 0 && (
          <ol class="results" data-testid="results">
            {results.items.map((p) => (
              <li key={p.code} class="result">
                <h3>
                  <Link href={`/procedures/${encodeURIComponent(p.code)}`}>{p.name}</Link>
                </h3>
                <dl class="meta">
                  <div>
                    <dt>{t('proc.code')}</dt>
                    <dd>{p.code}</dd>
                  </div>
                  <div>
                    <dt>{t('proc.sector')}</dt>
                    <dd>{p.sector}</dd>
                  </div>
                  <div>
                    <dt>{t('proc.levels')}</dt>
                    <dd>{levelsText(p.levels)}</dd>
                  </div>
                  <div>
                    <dt>{t('proc.time')}</dt>
                    <dd>{processingText(p.processing)}</dd>
                  </div>
                </dl>
              </li>
            ))}
          </ol>
        )}
        <LoadMore next={results?.next} loading={loading} onMore={(c) => void load(c)} label={t('proc.more')} />
      </section>
    </>
  );
}
