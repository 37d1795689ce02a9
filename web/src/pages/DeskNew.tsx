import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DossierChannel, type Procedure, type ProcedureSummary } from '../api';
import { t } from '../i18n';
import { isDesk, useAgency } from '../dossier';
import { levelsText } from '../format';
import { navigate } from '../router';
import { useUser } from '../session';
import { ErrorBox, Field, Loading, useAsync, useTitle } from '../ui';
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

function Reception({ agencyCode }: { agencyCode: string | null }) {
  const [code, setCode] = useState('');
  const [channel, setChannel] = useState<DossierChannel>('desk');
  const agency = useAgency(agencyCode);
  const proc = useAsync(
    (signal) => (code ? api.procedure(code, signal) : Promise.resolve(undefined as Procedure | undefined)),
    [code],
  );
  if (!code) return <ProcedurePicker onPick={setCode} />;
  return (
    <>
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
            applicant={{ full_name: '' }}
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
