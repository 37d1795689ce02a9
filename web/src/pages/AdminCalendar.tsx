// The official holiday schedule of a year (lịch nghỉ lễ, Tết chính thức), edited by city administrators:
// days off swapped or added and make-up working Saturdays. The server checks the rules and names the
// offending entry ("entries[2].date"); due dates follow the saved schedule at once.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Problem } from '../api';
import { locale, t, tOr } from '../i18n';
import { Link } from '../router';
import { authToken, useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, useAsync, useTitle } from '../ui';

type Kind = 'day_off' | 'make_up_workday';

interface ScheduleEntry {
  date: string;
  kind: Kind;
  reason: string;
  occasion: string | null;
  source: string;
  confidence?: string | null;
  note?: string;
  changed_by?: string;
  changed_at?: string;
}

interface YearSchedule {
  year: number;
  revision: number;
  entries: ScheduleEntry[];
}

interface Day {
  date: string;
  reason: string;
  official: boolean;
}

interface Holidays {
  year: number;
  days_off: Day[];
  make_up_workdays: Day[];
}

const OCCASIONS = ['new_year', 'tet', 'hung_kings', 'reunification', 'labour_day', 'national_day'];

/** The calendar's three calls (GET/PUT /calendar/schedules/{year}, GET /calendar/holidays). */
async function call<T>(method: 'GET' | 'PUT', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = authToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1/calendar${path}`, {
    method,
    headers,
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
    const problem: Problem =
      data && typeof data === 'object' ? (data as Problem) : { status: res.status, title: res.statusText };
    throw new ApiError(res.status, problem);
  }
  return data as T;
}

/** "Thứ Hai, 16/02/2026" / "Monday 16/02/2026" (the date is a Hà Nội civil date). */
function dateText(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return new Intl.DateTimeFormat(locale(), {
    weekday: 'long',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(d);
}

/** The index of the entry a problem's field names ("entries[2].date" -> 2). */
function entryIndex(field: string | undefined): number | null {
  const m = field ? /^entries\[(\d+)\]/.exec(field) : null;
  return m ? Number(m[1]) : null;
}

function byDate(a: ScheduleEntry, b: ScheduleEntry): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : 0;
}

function KindSelect({
  id,
  value,
  onChange,
  short,
  label,
}: {
  id: string;
  value: Kind;
  onChange: (k: Kind) => void;
  short?: boolean;
  label?: string;
}) {
  return (
    <select id={id} value={value} aria-label={label} onChange={(e) => onChange(e.currentTarget.value as Kind)}>
      <option value="day_off">{t(short ? 'cal.kindShort.day_off' : 'cal.kind.day_off')}</option>
      <option value="make_up_workday">{t(short ? 'cal.kindShort.make_up_workday' : 'cal.kind.make_up_workday')}</option>
    </select>
  );
}

function OccasionSelect({
  id,
  value,
  onChange,
  label,
}: {
  id: string;
  value: string | null;
  onChange: (o: string | null) => void;
  label?: string;
}) {
  return (
    <select id={id} value={value ?? ''} aria-label={label} onChange={(e) => onChange(e.currentTarget.value || null)}>
      <option value="">{t('cal.occasion.none')}</option>
      {OCCASIONS.map((o) => (
        <option key={o} value={o}>
          {tOr(`cal.occasion.${o}`, o)}
        </option>
      ))}
    </select>
  );
}

function AddEntry({ year, onAdd }: { year: number; onAdd: (e: ScheduleEntry) => void }) {
  const empty = { date: '', kind: 'day_off' as Kind, occasion: null as string | null, reason: '', source: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState('');
  const onSubmit = (e: Event) => {
    e.preventDefault();
    if (!form.date.startsWith(`${year}-`)) {
      setError(t('cal.dateInYear', { year }));
      return;
    }
    setError('');
    onAdd({ ...form, reason: form.reason.trim().normalize('NFC'), source: form.source.trim().normalize('NFC') });
    setForm(empty);
  };
  return (
    <section aria-labelledby="cal-add-title" class="panel">
      <h2 id="cal-add-title">{t('cal.add')}</h2>
      <form class="form grid-form" onSubmit={onSubmit}>
        <Field id="cal-new-date" label={t('cal.date')}>
          <input
            id="cal-new-date"
            type="date"
            required
            min={`${year}-01-01`}
            max={`${year}-12-31`}
            value={form.date}
            onInput={(e) => setForm({ ...form, date: e.currentTarget.value })}
          />
        </Field>
        <Field id="cal-new-kind" label={t('cal.kind')}>
          <KindSelect id="cal-new-kind" value={form.kind} onChange={(kind) => setForm({ ...form, kind })} />
        </Field>
        <Field id="cal-new-occasion" label={t('cal.occasion')}>
          <OccasionSelect
            id="cal-new-occasion"
            value={form.occasion}
            onChange={(occasion) => setForm({ ...form, occasion })}
          />
        </Field>
        <Field id="cal-new-reason" label={t('cal.reason')} hint={t('cal.reasonHint')}>
          <input
            id="cal-new-reason"
            maxLength={200}
            value={form.reason}
            aria-describedby="cal-new-reason-hint"
            onInput={(e) => setForm({ ...form, reason: e.currentTarget.value })}
          />
        </Field>
        <Field id="cal-new-source" label={t('cal.source')}>
          <input
            id="cal-new-source"
            maxLength={1000}
            value={form.source}
            onInput={(e) => setForm({ ...form, source: e.currentTarget.value })}
          />
        </Field>
        <div class="form-error full" role="alert">
          {error}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-secondary">
            {t('cal.addSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Editor({ year }: { year: number }) {
  const schedule = useAsync((signal) => call<YearSchedule>('GET', `/schedules/${year}`, undefined, signal), [year]);
  const holidays = useAsync(
    (signal) => call<Holidays>('GET', `/holidays?year=${year}`, undefined, signal),
    [year],
  );
  const [entries, setEntries] = useState<ScheduleEntry[]>([]);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const [problem, setProblem] = useState<{ message: string; field?: string } | null>(null);

  useEffect(() => {
    if (schedule.data) {
      setEntries(schedule.data.entries);
      setDirty(false);
    }
  }, [schedule.data]);

  const change = (next: ScheduleEntry[]) => {
    setEntries(next);
    setDirty(true);
    setNotice('');
  };
  const update = (i: number, patch: Partial<ScheduleEntry>) =>
    change(entries.map((e, j) => (j === i ? { ...e, ...patch } : e)));

  const onSave = async () => {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setNotice('');
    try {
      const body = {
        entries: entries.map((e) => ({
          date: e.date,
          kind: e.kind,
          reason: e.reason,
          occasion: e.occasion,
          source: e.source,
          confidence: e.confidence ?? null,
          note: e.note ?? '',
        })),
      };
      const saved = await call<YearSchedule>('PUT', `/schedules/${year}`, body);
      setEntries(saved.entries);
      setDirty(false);
      setNotice(t('cal.saved', { year }));
      holidays.reload();
    } catch (err) {
      setProblem({ message: errorMessage(err), field: err instanceof ApiError ? err.problem.field : undefined });
    } finally {
      setBusy(false);
    }
  };

  if (schedule.loading && !schedule.data) return <Loading />;
  if (schedule.error !== undefined) return <ErrorBox error={schedule.error} onRetry={schedule.reload} />;
  const bad = entryIndex(problem?.field);
  const badField = problem?.field?.replace(/^entries\[\d+\]\.?/, '') ?? '';

  return (
    <>
      <p class="notice" role="status" aria-live="polite">
        {notice}
      </p>
      <section aria-labelledby="cal-list-title">
        <h2 id="cal-list-title">{t('cal.listTitle', { year })}</h2>
        {entries.length === 0 ? (
          <p class="muted">{t('cal.empty')}</p>
        ) : (
          <table class="table calendar-table">
            <thead>
              <tr>
                <th scope="col">{t('cal.date')}</th>
                <th scope="col">{t('cal.kind')}</th>
                <th scope="col">{t('cal.occasion')}</th>
                <th scope="col">{t('cal.reason')}</th>
                <th scope="col">{t('cal.source')}</th>
                <th scope="col">{t('users.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={e.date} data-testid={`cal-row-${e.date}`}>
                  <td data-label={t('cal.date')}>
                    {dateText(e.date)}
                    {bad === i && <strong class="form-error"> {t('cal.invalid')}</strong>}
                    <br />
                    <small class="muted" title={t('cal.changed')}>
                      {e.changed_by ? `${e.changed_by}, ${(e.changed_at ?? '').slice(0, 10)}` : t('cal.unsaved')}
                    </small>
                  </td>
                  <td data-label={t('cal.kind')}>
                    <KindSelect
                      id={`cal-kind-${i}`}
                      short
                      label={t('cal.kindOf', { date: e.date })}
                      value={e.kind}
                      onChange={(kind) => update(i, { kind })}
                    />
                  </td>
                  <td data-label={t('cal.occasion')}>
                    <OccasionSelect
                      id={`cal-occasion-${i}`}
                      label={t('cal.occasionOf', { date: e.date })}
                      value={e.occasion}
                      onChange={(occasion) => update(i, { occasion })}
                    />
                  </td>
                  <td data-label={t('cal.reason')}>
                    <input
                      aria-label={t('cal.reasonOf', { date: e.date })}
                      maxLength={200}
                      value={e.reason}
                      aria-invalid={bad === i && badField === 'reason' ? true : undefined}
                      onInput={(ev) => update(i, { reason: ev.currentTarget.value })}
                    />
                  </td>
                  <td data-label={t('cal.source')}>
                    <input
                      aria-label={t('cal.sourceOf', { date: e.date })}
                      maxLength={1000}
                      value={e.source}
                      onInput={(ev) => update(i, { source: ev.currentTarget.value })}
                    />
                  </td>
                  <td data-label={t('users.actions')}>
                    <button
                      type="button"
                      class="btn btn-danger btn-small"
                      aria-label={t('cal.removeLabel', { date: e.date })}
                      onClick={() => change(entries.filter((_, j) => j !== i))}
                    >
                      {t('cal.remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="form-error" role="alert">
          {problem && (bad !== null && entries[bad] ? `${dateText(entries[bad].date)}: ${problem.message}` : problem.message)}
        </div>
        <p>
          <button type="button" class="btn btn-primary" disabled={busy || !dirty} onClick={onSave}>
            {t('cal.save', { year })}
          </button>{' '}
          <button type="button" class="btn btn-secondary" disabled={busy || !dirty} onClick={schedule.reload}>
            {t('cal.discard')}
          </button>
        </p>
      </section>
      <AddEntry
        year={year}
        onAdd={(e) => {
          change([...entries.filter((x) => x.date !== e.date), e].sort(byDate));
        }}
      />
      <section aria-labelledby="cal-result-title">
        <h2 id="cal-result-title">{t('cal.resultTitle', { year })}</h2>
        <p class="muted">{t('cal.resultLead')}</p>
        {holidays.error !== undefined && <ErrorBox error={holidays.error} onRetry={holidays.reload} />}
        {holidays.data && (
          <>
            <h3>{t('cal.daysOff')}</h3>
            <ul data-testid="cal-days-off">
              {holidays.data.days_off.map((d) => (
                <li key={d.date}>
                  {dateText(d.date)}: {d.reason}
                  {d.official ? ` (${t('cal.official')})` : ''}
                </li>
              ))}
            </ul>
            <h3>{t('cal.makeUpDays')}</h3>
            {holidays.data.make_up_workdays.length === 0 ? (
              <p class="muted">{t('common.none')}</p>
            ) : (
              <ul data-testid="cal-make-up">
                {holidays.data.make_up_workdays.map((d) => (
                  <li key={d.date}>
                    {dateText(d.date)}: {d.reason}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </section>
    </>
  );
}

export function AdminCalendar() {
  useTitle(t('cal.title'));
  const user = useUser();
  const [year, setYear] = useState(() => new Date().getFullYear());
  const [yearText, setYearText] = useState(String(year));
  const onYear = (e: Event) => {
    e.preventDefault();
    const y = Number(yearText);
    if (Number.isInteger(y) && y >= 2000 && y <= 2099) setYear(y);
  };
  const go = (y: number) => {
    setYear(y);
    setYearText(String(y));
  };
  return (
    <>
      <h1>{t('cal.title')}</h1>
      <p class="lead">{t('cal.lead')}</p>
      {!user ? (
        <div class="alert alert-info" role="alert">
          <p>{t('users.needLogin')}</p>
          <p>
            <Link href="/login">{t('nav.login')}</Link>
          </p>
        </div>
      ) : user.role !== 'city_admin' ? (
        <div class="alert alert-error" role="alert">
          {t('cal.noPermission')}
        </div>
      ) : (
        <>
          <form class="form" onSubmit={onYear} aria-label={t('cal.chooseYear')}>
            <Field id="cal-year" label={t('cal.year')}>
              <input
                id="cal-year"
                type="number"
                inputMode="numeric"
                min={2000}
                max={2099}
                value={yearText}
                onInput={(e) => setYearText(e.currentTarget.value)}
              />
            </Field>
            <p>
              <button type="submit" class="btn btn-secondary">
                {t('cal.show')}
              </button>{' '}
              <button type="button" class="btn btn-secondary" onClick={() => go(year - 1)} disabled={year <= 2000}>
                {t('cal.prevYear')}
              </button>{' '}
              <button type="button" class="btn btn-secondary" onClick={() => go(year + 1)} disabled={year >= 2099}>
                {t('cal.nextYear')}
              </button>
            </p>
          </form>
          <Editor key={year} year={year} />
        </>
      )}
    </>
  );
}
