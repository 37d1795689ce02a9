import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Applicant, type DossierChannel, type Person, type Procedure, type ProcedureSummary } from '../api';
import { t } from '../i18n';
import { isDesk, useAgency } from '../dossier';
import { dateText, levelsText } from '../format';
import { navigate } from '../router';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, useAsync, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';
import { DossierForm } from './dossierForm';

/** Search-as-you-type procedure picker (GET /api/v1/procedures?q=). */
function ProcedurePicker({ onPick }: { onPick: (code: string) => void }) {
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const timer = useRef<number>();
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const results = useAsync(
    (signal) =>
      q.length >= 2 ? api.procedures({ q, limit: 10 }, signal) : Promise.resolve({ items: [] as ProcedureSummary[], next_cursor: null }),
    [q],
  );
  const items = results.data?.items ?? [];
  return (
    <div class="panel picker">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          window.clearTimeout(timer.current);
          setQ(text.trim().normalize('NFC'));
        }}
      >
        <Field id="desk-proc" label={t('desk.procedureSearch')} hint={t('desk.procedureHint')}>
          <div class="search-row">
            <input
              id="desk-proc"
              type="search"
              autocomplete="off"
              value={text}
              aria-describedby="desk-proc-hint"
              aria-controls="desk-proc-results"
              onInput={(e) => {
                const v = e.currentTarget.value;
                setText(v);
                window.clearTimeout(timer.current);
                timer.current = window.setTimeout(() => setQ(v.trim().normalize('NFC')), 300);
              }}
            />
            <button type="submit" class="btn btn-primary">
              {t('common.search')}
            </button>
          </div>
        </Field>
      </form>
      <div id="desk-proc-results" aria-live="polite">
        {results.loading && q.length >= 2 && <Loading />}
        {results.error !== undefined && <ErrorBox error={results.error} onRetry={results.reload} />}
        {!results.loading && q.length >= 2 && items.length === 0 && <p class="empty">{t('desk.noResults')}</p>}
        {items.length > 0 && (
          <ul class="pick-list" data-testid="procedure-options">
            {items.map((p) => (
              <li key={p.code}>
                <span class="pick-name">
                  {p.name}
                  <span class="muted">
                    {' '}
                    ({p.code} · {levelsText(p.levels)})
                  </span>
                </span>
                <button
                  type="button"
                  class="btn btn-secondary btn-small"
                  aria-label={t('desk.pickLabel', { name: `${p.name} (${p.code})` })}
                  onClick={() => onPick(p.code)}
                >
                  {t('desk.pick')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

/** Names compare without regard to case, spacing or Unicode form; diacritics count. */
const sameName = (a: string, b: string) => {
  const norm = (x: string) => x.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('vi');
  return norm(a) === norm(b);
};

type Comparison = 'match' | 'mismatch' | 'filled';

/** Desk verification (§2 of the once-only goal): the officer checks the applicant against the
 * population registry (GET /api/v1/registry/people/{id} with a purpose, recorded in the citizen's
 * access log) instead of asking for paper copies; what matches fills the applicant's part of the form. */
function RegistryCheck({ onVerified }: { onVerified: (a: Applicant) => void }) {
  const [id, setId] = useState('');
  const [purpose, setPurpose] = useState('');
  const [name, setName] = useState('');
  const [birth, setBirth] = useState('');
  const [result, setResult] = useState<{ person: Person; name: Comparison; birth: Comparison } | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!/^\d{12}$/.test(id.trim())) return setError({ message: t('registry.badId'), field: 'personal_id' });
    if (purpose.trim().length < 5) return setError({ message: t('registry.needPurpose'), field: 'purpose' });
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const person = await api.registryPerson(id.trim(), purpose.trim().normalize('NFC'), '');
      const byName: Comparison = !name.trim() ? 'filled' : sameName(name, person.full_name) ? 'match' : 'mismatch';
      const byBirth: Comparison = !birth ? 'filled' : birth === person.birth_date ? 'match' : 'mismatch';
      if (byName === 'filled') setName(person.full_name);
      if (byBirth === 'filled') setBirth(person.birth_date);
      setResult({ person, name: byName, birth: byBirth });
      if (byName !== 'mismatch' && byBirth !== 'mismatch') {
        onVerified({
          full_name: person.full_name,
          personal_id: person.personal_id,
          address: person.permanent_address ?? '',
        });
      }
    } catch (err) {
      const notFound = err instanceof ApiError && err.status === 404;
      const field = err instanceof ApiError ? err.problem.field : undefined;
      setError({ message: notFound ? t('deskcheck.notFound') : errorMessage(err), field });
    } finally {
      setBusy(false);
    }
  };
  const matched = result && result.name !== 'mismatch' && result.birth !== 'mismatch';
  const cell = (c: Comparison) => (
    <span class={c === 'mismatch' ? 'flag flag-overdue' : 'flag flag-ok'}>
      {c === 'match' ? t('deskcheck.fieldMatch') : c === 'mismatch' ? t('deskcheck.fieldMismatch') : t('deskcheck.filled')}
    </span>
  );
  return (
    <section class="panel" aria-labelledby="deskcheck-title" data-testid="desk-registry-check">
      <h2 id="deskcheck-title">{t('deskcheck.title')}</h2>
      <p class="hint">{t('deskcheck.lead')}</p>
      <form class="form grid-form" onSubmit={onSubmit} noValidate>
        <Field id="deskcheck-id" label={t('deskcheck.personalId')}>
          <input
            id="deskcheck-id"
            inputMode="numeric"
            maxLength={12}
            autocomplete="off"
            required
            value={id}
            aria-invalid={error?.field === 'personal_id' ? true : undefined}
            aria-describedby="deskcheck-error"
            onInput={(e) => setId(e.currentTarget.value)}
          />
        </Field>
        <Field id="deskcheck-purpose" label={t('deskcheck.purpose')} hint={t('registry.purposeHint')}>
          <input
            id="deskcheck-purpose"
            required
            maxLength={500}
            value={purpose}
            aria-invalid={error?.field === 'purpose' ? true : undefined}
            aria-describedby="deskcheck-purpose-hint deskcheck-error"
            onInput={(e) => setPurpose(e.currentTarget.value)}
          />
        </Field>
        <Field id="deskcheck-name" label={t('deskcheck.name')} hint={t('deskcheck.optional')}>
          <input
            id="deskcheck-name"
            autocomplete="off"
            maxLength={200}
            value={name}
            aria-describedby="deskcheck-name-hint"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field id="deskcheck-birth" label={t('deskcheck.birthDate')} hint={t('deskcheck.optional')}>
          <input
            id="deskcheck-birth"
            type="date"
            value={birth}
            aria-describedby="deskcheck-birth-hint"
            onInput={(e) => setBirth(e.currentTarget.value)}
          />
        </Field>
        <div id="deskcheck-error" class="form-error full" role="alert">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-secondary" disabled={busy}>
            {t('deskcheck.submit')}
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {result && (
          <div data-testid="registry-check" data-result={matched ? 'match' : 'mismatch'}>
            <p class={matched ? 'alert alert-success' : 'alert alert-error'} role="status">
              <strong>{matched ? t('deskcheck.match') : t('deskcheck.mismatch')}</strong>
              {result.person.status === 'deceased' ? ` ${t('deskcheck.deceased')}` : ''}
            </p>
            <table class="table compare">
              <thead>
                <tr>
                  <th scope="col">{t('deskcheck.field')}</th>
                  <th scope="col">{t('deskcheck.presented')}</th>
                  <th scope="col">{t('deskcheck.registry')}</th>
                  <th scope="col">{t('deskcheck.result')}</th>
                </tr>
              </thead>
              <tbody>
                <tr data-field="full_name" data-result={result.name}>
                  <th scope="row">{t('dnew.fullName')}</th>
                  <td>{result.name === 'filled' ? '—' : name}</td>
                  <td>{result.person.full_name}</td>
                  <td>{cell(result.name)}</td>
                </tr>
                <tr data-field="birth_date" data-result={result.birth}>
                  <th scope="row">{t('registry.birthDate')}</th>
                  <td>{result.birth === 'filled' ? '—' : dateText(birth)}</td>
                  <td>{dateText(result.person.birth_date)}</td>
                  <td>{cell(result.birth)}</td>
                </tr>
              </tbody>
            </table>
            {matched && <p class="hint">{t('deskcheck.filledForm')}</p>}
          </div>
        )}
      </div>
    </section>
  );
}

function Reception({ agencyCode }: { agencyCode: string | null }) {
  const [code, setCode] = useState('');
  const [channel, setChannel] = useState<DossierChannel>('desk');
  const [applicant, setApplicant] = useState<Applicant>({ full_name: '' });
  const agency = useAgency(agencyCode);
  const proc = useAsync(
    (signal) => (code ? api.procedure(code, signal) : Promise.resolve(undefined as Procedure | undefined)),
    [code],
  );
  const check = <RegistryCheck onVerified={setApplicant} />;
  if (!code) {
    return (
      <>
        {check}
        <ProcedurePicker onPick={setCode} />
      </>
    );
  }
  return (
    <>
      {check}
      <div class="panel selected-proc">
        <h2>{t('desk.selected')}</h2>
        {proc.loading && <Loading />}
        {proc.error !== undefined && <ErrorBox error={proc.error} onRetry={proc.reload} />}
        {proc.data && (
          <p data-testid="desk-procedure">
            <strong>{proc.data.name}</strong> <span class="muted">({proc.data.code})</span>
          </p>
        )}
        <button type="button" class="btn btn-secondary btn-small" onClick={() => setCode('')}>
          {t('desk.change')}
        </button>
      </div>
      {proc.data && (
        <>
          <fieldset class="panel choices">
            <legend>{t('desk.channel')}</legend>
            {(['desk', 'postal'] as const).map((c) => (
              <label key={c} class="choice">
                <input type="radio" name="channel" value={c} checked={channel === c} onChange={() => setChannel(c)} />
                <span>{t(`desk.channel.${c}`)}</span>
              </label>
            ))}
          </fieldset>
          <DossierForm
            key={proc.data.code}
            procedure={proc.data}
            applicant={applicant}
            defaultUnit={agency?.kind === 'commune_committee' ? (agency.unit_code ?? undefined) : undefined}
            defaultDelivery={channel === 'postal' ? 'post' : 'desk'}
            extra={{ channel }}
            submitLabel={t('desk.submit')}
            onSubmitted={(d) => navigate(`/dossiers/${encodeURIComponent(d.code)}/receipt`)}
          />
        </>
      )}
    </>
  );
}

export function DeskNew() {
  useTitle(t('desk.title'));
  const user = useUser();
  return (
    <section>
      <h1>{t('desk.title')}</h1>
      <p class="lead">{t('desk.lead')}</p>
      {!user ? (
        <NeedLogin />
      ) : !isDesk(user) ? (
        <NoPermission message={t('desk.onlyDesk')} />
      ) : (
        <Reception key={user.username} agencyCode={user.agency_code} />
      )}
    </section>
  );
}
