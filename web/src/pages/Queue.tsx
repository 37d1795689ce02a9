import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DossierSummary } from '../api';
import { t } from '../i18n';
import { isDesk, isOfficial, statusLabel, useRules } from '../dossier';
import { Link, navigate, useLocation, withQuery } from '../router';
import { useUser } from '../session';
import { ErrorBox, Field, LoadMore, useAsync, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';
import { DossierTable } from './dossierTable';

const PAGE_SIZE = 20;
/** Display order of the lifecycle states (labels come from GET /dossier-rules). */
export const STATUS_ORDER = [
  'submitted',
  'received',
  'in_progress',
  'supplement_requested',
  'transferred',
  'awaiting_approval',
  'approved',
  'rejected',
  'result_issued',
  'returned',
  'refused',
  'withdrawn',
  'stopped',
];

interface Filters {
  scope: string;
  status: string;
  overdue: string;
  applicant: string;
}

function Counts({ scope, tick }: { scope: string; tick: number }) {
  const counts = useAsync((signal) => api.counts(scope, signal), [scope, tick]);
  const rules = useRules();
  const c = counts.data;
  const statuses = c ? STATUS_ORDER.filter((s) => c.by_status[s]).concat(Object.keys(c.by_status).filter((s) => !STATUS_ORDER.includes(s))) : [];
  return (
    <section aria-labelledby="counts-title" class="counts-section">
      <h2 id="counts-title">{t('queue.counts')}</h2>
      {counts.error !== undefined && <ErrorBox error={counts.error} onRetry={counts.reload} />}
      {c && (
        <ul class="counts" data-testid="counts">
          <li>
            <Link
              class={c.overdue ? 'count count-overdue' : 'count'}
              href={withQuery('/queue', { scope: scope === 'agency' ? undefined : scope, overdue: 'true' })}
              aria-label={t('queue.showOverdue', { n: c.overdue })}
              data-status="overdue"
            >
              <span class="count-n">{c.overdue}</span>
              <span class="count-label">{t('queue.overdue')}</span>
            </Link>
          </li>
          {statuses.map((s) => {
            const label = statusLabel(s, rules?.states?.[s]?.label_vi);
            return (
              <li key={s}>
                <Link
                  class="count"
                  href={withQuery('/queue', { scope: scope === 'agency' ? undefined : scope, status: s })}
                  aria-label={t('queue.showStatus', { status: label, n: c.by_status[s] })}
                  data-status={s}
                >
                  <span class="count-n">{c.by_status[s]}</span>
                  <span class="count-label">{label}</span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Board() {
  const loc = useLocation();
  const user = useUser();
  const rules = useRules();
  const f: Filters = {
    scope: loc.search.get('scope') === 'mine' ? 'mine' : 'agency',
    status: loc.search.get('status') ?? '',
    overdue: loc.search.get('overdue') === 'true' ? 'true' : '',
    applicant: loc.search.get('applicant') ?? '',
  };
  const [status, setStatus] = useState(f.status);
  const [overdue, setOverdue] = useState(!!f.overdue);
  const [applicant, setApplicant] = useState(f.applicant);
  useEffect(() => {
    setStatus(f.status);
    setOverdue(!!f.overdue);
    setApplicant(f.applicant);
  }, [f.status, f.overdue, f.applicant]);

  const go = (next: Partial<Filters>) => {
    const all = { ...f, ...next };
    navigate(
      withQuery('/queue', {
        scope: all.scope === 'agency' ? undefined : all.scope,
        status: all.status,
        overdue: all.overdue,
        applicant: all.applicant,
      }),
    );
  };

  const [items, setItems] = useState<DossierSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const req = useRef(0);
  const load = async (cursor: string | null) => {
    const id = ++req.current;
    setLoading(true);
    setError(null);
    try {
      const page = await api.queue({
        scope: f.scope,
        status: f.status || undefined,
        overdue: f.overdue || undefined,
        applicant: f.applicant || undefined,
        cursor,
        limit: PAGE_SIZE,
      });
      if (id !== req.current) return;
      setItems((prev) => (cursor && prev ? [...prev, ...page.items] : page.items));
      setNext(page.next_cursor);
    } catch (e) {
      if (id === req.current) setError(e);
    } finally {
      if (id === req.current) setLoading(false);
    }
  };
  useEffect(() => {
    setItems(null);
    void load(null);
  }, [f.scope, f.status, f.overdue, f.applicant, tick]);

  const filtered = !!(f.status || f.overdue || f.applicant);
  return (
    <>
      <div class="queue-top">
        <nav aria-label={t('queue.scope')} class="segmented">
          {(['agency', 'mine'] as const).map((s) => (
            <Link
              key={s}
              href={withQuery('/queue', { scope: s === 'agency' ? undefined : s })}
              class={f.scope === s ? 'seg active' : 'seg'}
              aria-current={f.scope === s ? 'true' : undefined}
            >
              {t(`queue.scope.${s}`)}
            </Link>
          ))}
        </nav>
        {isDesk(user) && (
          <Link class="btn btn-primary" href="/desk/new">
            {t('home.desk')}
          </Link>
        )}
      </div>
      <Counts scope={f.scope} tick={tick} />
      <form
        class="filters panel queue-filters"
        aria-labelledby="filters-title"
        onSubmit={(e) => {
          e.preventDefault();
          go({ status, overdue: overdue ? 'true' : '', applicant: applicant.trim().normalize('NFC') });
        }}
      >
        <h2 id="filters-title" class="visually-hidden">
          {t('queue.filters')}
        </h2>
        <Field id="q-status" label={t('queue.status')}>
          <select id="q-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t('queue.statusOpen')}</option>
            {STATUS_ORDER.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s, rules?.states?.[s]?.label_vi)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="q-applicant" label={t('queue.applicant')}>
          <input
            id="q-applicant"
            type="search"
            autocomplete="off"
            value={applicant}
            onInput={(e) => setApplicant(e.currentTarget.value)}
          />
        </Field>
        <div class="field check-field">
          <label class="choice">
            <input type="checkbox" id="q-overdue" checked={overdue} onChange={(e) => setOverdue(e.currentTarget.checked)} />
            <span>{t('queue.overdueOnly')}</span>
          </label>
        </div>
        <div class="field filter-buttons">
          <button type="submit" class="btn btn-primary">
            {t('queue.filter')}
          </button>
          {filtered && (
            <button type="button" class="btn btn-secondary" onClick={() => go({ status: '', overdue: '', applicant: '' })}>
              {t('queue.clear')}
            </button>
          )}
        </div>
      </form>
      <section aria-labelledby="queue-list-title">
        <h2 id="queue-list-title" class="visually-hidden">
          {t('queue.title')}
        </h2>
        <p class="result-count" role="status" aria-live="polite" data-testid="queue-count">
          {loading && !items
            ? t('common.loading')
            : items
              ? next
                ? t('q.shown', { n: items.length })
                : t('q.all', { n: items.length })
              : ''}
        </p>
        {error !== null && <ErrorBox error={error} onRetry={() => setTick((n) => n + 1)} />}
        {items && items.length === 0 && <p class="empty">{t('queue.none')}</p>}
        {items && items.length > 0 && <DossierTable items={items} official />}
        <LoadMore next={next} loading={loading} onMore={(c) => void load(c)} />
      </section>
    </>
  );
}

export function Queue() {
  useTitle(t('queue.title'));
  const user = useUser();
  return (
    <section>
      <h1>{t('queue.title')}</h1>
      {!user ? <NeedLogin /> : !isOfficial(user) ? <NoPermission message={t('queue.noPermission')} /> : <Board key={user.username} />}
    </section>
  );
}
