import { useEffect, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  fetchFile,
  type ActionBody,
  type Agency,
  type Dossier,
  type DossierRules,
  type JsonSchema,
  type ReferencedDocument,
} from '../api';
import { t } from '../i18n';
import {
  actionLabel,
  agencyText,
  channelLabel,
  deliveryLabel,
  hanoiToday,
  isApplicant,
  isOfficial,
  refreshUnread,
  statusClass,
  statusLabel,
  useAgency,
  useRules,
  workingDaysText,
} from '../dossier';
import { dateText, dateTimeText, roleName } from '../format';
import { Link } from '../router';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, Row, useTitle } from '../ui';
import { NeedLogin } from './DossierNew';
import { VerdictBox } from './Wallet';

type Need = 'assignee' | 'agency' | 'new_due_date' | '';

// Used only if GET /dossier-rules is unavailable: the rules normally come from the server.
const FALLBACK_NEEDS: Record<string, Need> = { assign: 'assignee', transfer: 'agency', apologise: 'new_due_date' };
const FALLBACK_NOTE_REQUIRED = ['refuse', 'request-supplement', 'reject', 'stop', 'apologise'];
const DANGER = ['refuse', 'reject', 'withdraw', 'stop'];

function needsOf(rules: DossierRules | null, action: string): { need: Need; noteRequired: boolean } {
  const r = rules?.actions?.[action];
  if (r) return { need: (r.needs || '') as Need, noteRequired: !!r.note_required };
  return { need: FALLBACK_NEEDS[action] ?? '', noteRequired: FALLBACK_NOTE_REQUIRED.includes(action) };
}

export function DueFlags({ d }: { d: { overdue: boolean; due_soon: boolean; paused: boolean } }) {
  return (
    <>
      {d.overdue && <span class="flag flag-overdue">{t('dossier.overdue')}</span>}
      {d.due_soon && <span class="flag flag-soon">{t('dossier.dueSoon')}</span>}
      {d.paused && <span class="flag flag-paused">{t('dossier.paused')}</span>}
    </>
  );
}

/** One action's form: the inputs it needs, a note, confirm / cancel; 409 offers a reload. */
function ActionForm({
  d,
  action,
  rules,
  onDone,
  onCancel,
  onReload,
}: {
  d: Dossier;
  action: string;
  rules: DossierRules | null;
  onDone: (d: Dossier) => void;
  onCancel: () => void;
  onReload: () => Promise<void>;
}) {
  const { need, noteRequired } = needsOf(rules, action);
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  const [agency, setAgency] = useState('');
  const [due, setDue] = useState('');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [agencies, setAgencies] = useState<Agency[]>([]);
  const id = (s: string) => `act-${action}-${s}`;

  useEffect(() => {
    document.getElementById(id('form'))?.querySelector<HTMLElement>('input, textarea')?.focus();
    if (need !== 'agency') return;
    const ctl = new AbortController();
    api.agencies({}, ctl.signal).then((r) => setAgencies(r.items), () => {});
    return () => ctl.abort();
  }, [action]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const body: ActionBody = { version: d.version };
    const v = (s: string) => s.trim().normalize('NFC');
    if (need === 'assignee') {
      if (!v(assignee)) return setError({ message: t('dossier.required', { field: t('dossier.assigneeInput') }), field: 'assignee' });
      body.assignee = v(assignee);
    }
    if (need === 'agency') {
      if (!v(agency)) return setError({ message: t('dossier.required', { field: t('dossier.agencyInput') }), field: 'agency' });
      body.agency = v(agency);
    }
    if (need === 'new_due_date') {
      if (!due) return setError({ message: t('dossier.required', { field: t('dossier.newDue') }), field: 'new_due_date' });
      body.new_due_date = due;
    }
    if (noteRequired && !v(note)) return setError({ message: t('dossier.noteMissing'), field: 'note' });
    if (v(note)) body.note = v(note);
    setBusy(true);
    setError(null);
    setConflict(null);
    try {
      onDone(await api.act(d.code, action, body));
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setConflict(errorMessage(err));
      else setError({ message: errorMessage(err), field: err instanceof ApiError ? err.problem.field : undefined });
    } finally {
      setBusy(false);
    }
  };
  const invalid = (f: string) => (error?.field === f ? true : undefined);
  const errId = id('error');

  return (
    <form class="action-form" id={id('form')} onSubmit={submit} noValidate aria-labelledby={id('title')}>
      <h3 id={id('title')}>{actionLabel(action)}</h3>
      {need === 'assignee' && (
        <Field id={id('assignee')} label={t('dossier.assigneeInput')} hint={t('dossier.assigneeHint')}>
          <input
            id={id('assignee')}
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            required
            value={assignee}
            aria-invalid={invalid('assignee')}
            aria-describedby={`${id('assignee')}-hint ${errId}`}
            onInput={(e) => setAssignee(e.currentTarget.value)}
          />
        </Field>
      )}
      {need === 'agency' && (
        <Field id={id('agency')} label={t('dossier.agencyInput')} hint={t('dossier.agencyHint')}>
          <input
            id={id('agency')}
            list={id('agencies')}
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            required
            value={agency}
            aria-invalid={invalid('agency')}
            aria-describedby={`${id('agency')}-hint ${errId}`}
            onInput={(e) => setAgency(e.currentTarget.value)}
          />
          <datalist id={id('agencies')}>
            {agencies
              .filter((a) => a.code !== d.handling_agency)
              .map((a) => (
                <option key={a.code} value={a.code}>
                  {a.name}
                </option>
              ))}
          </datalist>
        </Field>
      )}
      {need === 'new_due_date' && (
        <Field id={id('due')} label={t('dossier.newDue')}>
          <input
            id={id('due')}
            type="date"
            min={hanoiToday()}
            required
            value={due}
            aria-invalid={invalid('new_due_date')}
            aria-describedby={errId}
            onInput={(e) => setDue(e.currentTarget.value)}
          />
        </Field>
      )}
      <Field
        id={id('note')}
        label={
          action === 'supplement'
            ? t('dossier.supplementNote')
            : noteRequired
              ? t('dossier.noteRequired')
              : t('dossier.note')
        }
      >
        <textarea
          id={id('note')}
          rows={3}
          required={noteRequired}
          value={note}
          aria-invalid={invalid('note')}
          aria-describedby={errId}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
      </Field>
      <div id={errId} class="form-error" role="alert">
        {error?.message}
      </div>
      {conflict !== null && (
        <div class="alert alert-error" role="alert" data-testid="conflict">
          <p>{t('dossier.conflict')}</p>
          <p class="muted">{conflict}</p>
          <button
            type="button"
            class="btn btn-secondary"
            onClick={async () => {
              await onReload();
              setConflict(null);
            }}
          >
            {t('dossier.reload')}
          </button>
        </div>
      )}
      <div class="actions-row">
        <button type="submit" class={DANGER.includes(action) ? 'btn btn-danger' : 'btn btn-primary'} disabled={busy}>
          {t('dossier.confirm', { action: actionLabel(action) })}
        </button>
        <button type="button" class="btn btn-secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function Actions({
  d,
  onUpdated,
  onReload,
}: {
  d: Dossier;
  onUpdated: (d: Dossier, action: string) => void;
  onReload: () => Promise<void>;
}) {
  const rules = useRules();
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    if (open && !d.allowed_actions.includes(open)) setOpen(null);
  }, [d.allowed_actions.join(',')]);
  return (
    <section class="panel no-print" aria-labelledby="actions-title" data-testid="actions">
      <h2 id="actions-title">{t('dossier.actions')}</h2>
      {d.allowed_actions.length === 0 ? (
        <p class="muted">{t('dossier.noActions')}</p>
      ) : (
        <div class="actions-row" role="group" aria-labelledby="actions-title">
          {d.allowed_actions.map((a) => (
            <button
              key={a}
              type="button"
              class={`btn ${DANGER.includes(a) ? 'btn-danger' : 'btn-secondary'}${open === a ? ' pressed' : ''}`}
              aria-expanded={open === a}
              aria-controls={open === a ? `act-${a}-form` : undefined}
              onClick={() => setOpen(open === a ? null : a)}
            >
              {actionLabel(a)}
            </button>
          ))}
        </div>
      )}
      {open && d.allowed_actions.includes(open) && (
        <ActionForm
          key={open}
          d={d}
          action={open}
          rules={rules}
          onCancel={() => setOpen(null)}
          onReload={onReload}
          onDone={(next) => {
            setOpen(null);
            onUpdated(next, open);
          }}
        />
      )}
    </section>
  );
}

function Rating({ d, onUpdated }: { d: Dossier; onUpdated: (d: Dossier) => void }) {
  const [stars, setStars] = useState(0);
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  if (d.rating != null) {
    return (
      <section class="panel" aria-labelledby="rating-title">
        <h2 id="rating-title">{t('dossier.rating')}</h2>
        <p class="rated" data-testid="rated">
          <span class="stars" aria-hidden="true">
            {'★'.repeat(d.rating)}
            <span class="stars-off">{'★'.repeat(5 - d.rating)}</span>
          </span>{' '}
          {t('dossier.rated', { n: d.rating })}
        </p>
      </section>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!stars) {
      setError(t('dossier.ratingChoose'));
      return;
    }
    setBusy(true);
    setError('');
    try {
      onUpdated(await api.rate(d.code, stars, comment.trim().normalize('NFC')));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel no-print" aria-labelledby="rating-title">
      <h2 id="rating-title">{t('dossier.rating')}</h2>
      <form onSubmit={submit} noValidate>
        <fieldset class="star-rating" aria-describedby="rating-error">
          <legend>{t('dossier.ratingLegend')}</legend>
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n} class={n <= stars ? 'star on' : 'star'}>
              <input
                type="radio"
                name="rating"
                value={n}
                class="visually-hidden"
                checked={stars === n}
                onChange={() => setStars(n)}
              />
              <span class="star-glyph" aria-hidden="true">
                ★
              </span>
              <span class="visually-hidden">{t('dossier.ratingStar', { n, label: t(`dossier.rating.${n}` as 'dossier.rating.1') })}</span>
            </label>
          ))}
          <span class="star-caption" aria-hidden="true">
            {stars ? t(`dossier.rating.${stars}` as 'dossier.rating.1') : ''}
          </span>
        </fieldset>
        <Field id="rating-comment" label={t('dossier.ratingComment')}>
          <textarea id="rating-comment" rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        </Field>
        <div id="rating-error" class="form-error" role="alert">
          {error}
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('dossier.ratingSubmit')}
        </button>
      </form>
    </section>
  );
}

function Timeline({ d }: { d: Dossier }) {
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t('dossier.timeline')}</h2>
      <table class="table timeline" data-testid="timeline">
        <caption>{t('dossier.timelineCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('dossier.tl.step')}</th>
            <th scope="col">{t('dossier.tl.time')}</th>
            <th scope="col">{t('dossier.tl.action')}</th>
            <th scope="col">{t('dossier.tl.actor')}</th>
            <th scope="col">{t('dossier.tl.result')}</th>
            <th scope="col">{t('dossier.tl.note')}</th>
          </tr>
        </thead>
        <tbody>
          {d.timeline.map((e) => (
            <tr key={e.seq}>
              <td data-label={t('dossier.tl.step')}>{e.seq}</td>
              <td data-label={t('dossier.tl.time')}>{dateTimeText(e.at)}</td>
              <td data-label={t('dossier.tl.action')}>{actionLabel(e.action)}</td>
              <td data-label={t('dossier.tl.actor')}>
                {e.actor} <span class="muted">({roleName(e.actor_role)})</span>
              </td>
              <td data-label={t('dossier.tl.result')}>{statusLabel(e.to_status, e.to_label)}</td>
              <td data-label={t('dossier.tl.note')}>{e.note || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">{t('common.timeNote')}</p>
    </section>
  );
}

/**
 * The form's answers as labelled rows: nested objects flattened ("Trẻ › Họ, chữ đệm và tên"), lists
 * joined, yes/no for booleans. Labels are the titles of the procedure's form schema when it is known
 * (the schema describes the whole submission; its `form` property describes these answers), else keys.
 */
function formEntries(form: Dossier['form'], schema: JsonSchema | null): [string, string][] {
  if (!form || typeof form !== 'object') return [];
  const out: [string, string][] = [];
  const walk = (value: unknown, s: JsonSchema | undefined, label: string) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      // The schema's order (the server stores answers with sorted keys), then any other keys.
      const obj = value as Record<string, unknown>;
      const keys = [...Object.keys(s?.properties ?? {}).filter((k) => k in obj)];
      for (const k of Object.keys(obj)) if (!keys.includes(k)) keys.push(k);
      for (const k of keys) {
        const child = s?.properties?.[k];
        walk(obj[k], child, (label ? `${label} › ` : '') + (child?.title ?? k));
      }
    } else if (Array.isArray(value)) {
      out.push([label, value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')]);
    } else if (typeof value === 'boolean') {
      out.push([label, value ? t('common.yes') : t('common.no')]);
    } else if (value !== null && value !== undefined && value !== '') {
      out.push([label, String(value)]);
    }
  };
  walk(form, schema?.properties?.form, '');
  return out;
}

/** The procedure's form schema, for the labels of a dossier's answers (null until loaded, or none). */
function useFormSchema(procedure: string): JsonSchema | null {
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  useEffect(() => {
    const c = new AbortController();
    api
      .procedure(procedure, c.signal)
      .then((p) => setSchema(p.form_schema ?? null))
      .catch(() => setSchema(null));
    return () => c.abort();
  }, [procedure]);
  return schema;
}

/** Once-only: the wallet documents the dossier refers to instead of uploads, verified on demand. */
function WalletReferences({ d }: { d: Dossier }) {
  const [checks, setChecks] = useState<Record<string, ReferencedDocument>>({});
  const [error, setError] = useState<unknown>(null);
  const refs = d.wallet_documents ?? [];
  if (!refs.length) return null;
  const verify = async (id: string) => {
    setError(null);
    try {
      const r = await api.referencedDocument(d.code, id);
      setChecks((m) => ({ ...m, [id]: r }));
    } catch (e) {
      setError(e);
    }
  };
  const open = async (r: ReferencedDocument) => {
    if (!r.file_url) return;
    setError(null);
    try {
      const url = URL.createObjectURL(await fetchFile(r.file_url));
      const a = document.createElement('a');
      a.href = url;
      a.download = r.document_id;
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="panel" aria-labelledby="wallet-refs-title" data-testid="wallet-documents">
      <h2 id="wallet-refs-title">{t('once.section')}</h2>
      <ul class="plain">
        {refs.map((w) => {
          const c = checks[w.document_id];
          return (
            <li key={w.component} data-document={w.document_id}>
              <p>
                <strong>{w.title}</strong> — {t('once.issued', { agency: w.issuer_agency, date: dateText(w.issued_on) })}
              </p>
              <p class="hint">{t('once.forComponent', { component: w.component })}</p>
              <p class="actions-row">
                <button type="button" class="btn btn-secondary btn-small" onClick={() => verify(w.document_id)}>
                  {t('once.verify')}
                </button>
                {c?.has_file && (
                  <button type="button" class="btn btn-secondary btn-small" onClick={() => open(c)}>
                    {t('once.openFile')}
                  </button>
                )}
              </p>
              {c && (
                <VerdictBox
                  v={{
                    ...c.verification,
                    document_id: c.document_id,
                    title: c.title,
                    issuer_agency: c.issuer_agency,
                    issued_on: c.issued_on,
                  }}
                />
              )}
            </li>
          );
        })}
      </ul>
      {error !== null && <ErrorBox error={error} />}
    </section>
  );
}

// A result was issued (or already handed back): the signed result document exists when the applicant
// has a wallet, i.e. a personal id or a tax code; otherwise GET .../result answers 404.
const RESULT_STATUSES = ['result_issued', 'returned'];

function hasResult(d: Dossier): boolean {
  const a = d.applicant;
  return RESULT_STATUSES.includes(d.status) && !!(a.id_number || a.personal_id || a.tax_code);
}

/** "Tải kết quả (PDF)": the signed PDF of the dossier's result, for its applicant and the officials concerned. */
function ResultPdfButton({ d }: { d: Dossier }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      const url = URL.createObjectURL(await fetchFile(`/api/v1/dossiers/${encodeURIComponent(d.code)}/result`));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${d.code}-result.pdf`;
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="btn btn-primary"
        data-testid="dossier-result-pdf"
        aria-busy={busy ? true : undefined}
        onClick={() => void download()}
      >
        {t('dossier.resultPdf')}
      </button>
      {error !== null && (
        <span class="form-error" role="alert" data-testid="dossier-result-error">
          {error instanceof ApiError && error.status === 404 ? t('dossier.resultMissing') : errorMessage(error)}
        </span>
      )}
    </>
  );
}

function View({
  d,
  onUpdated,
  onReload,
}: {
  d: Dossier;
  onUpdated: (d: Dossier, action?: string) => void;
  onReload: () => Promise<void>;
}) {
  const user = useUser();
  const receiving = useAgency(d.receiving_agency);
  const handling = useAgency(d.handling_agency);
  const a = d.applicant;
  const idNumber = a.id_number ?? a.personal_id;
  const official = isOfficial(user);
  const lastSupplementRequest =
    d.status === 'supplement_requested'
      ? [...d.timeline].reverse().find((e) => e.to_status === 'supplement_requested')
      : undefined;
  const form = formEntries(d.form, useFormSchema(d.procedure.code));
  return (
    <>
      <h1>{t('dossier.title', { code: d.code })}</h1>
      <p class="status-line">
        <span class={statusClass(d.status)} data-testid="dossier-status">
          {statusLabel(d.status, d.status_label)}
        </span>{' '}
        <DueFlags d={d} />
      </p>
      {lastSupplementRequest && (
        <div class="alert alert-warn" role="note" data-testid="supplement-request">
          <p>{t('dossier.supplementRequested')}</p>
          <p>
            <strong>{lastSupplementRequest.note}</strong>
          </p>
        </div>
      )}
      <div class="detail-grid">
        <section aria-labelledby="proc-title">
          <h2 id="proc-title">{t('dossier.processing')}</h2>
          <dl class="fields">
            <Row label={t('receipt.procedure')}>
              <Link href={`/procedures/${encodeURIComponent(d.procedure.code)}`}>{d.procedure.name}</Link> (
              {d.procedure.code})
            </Row>
            <Row label={t('receipt.channel')}>{channelLabel(d.channel)}</Row>
            <Row label={t('receipt.delivery')}>{deliveryLabel(d.delivery)}</Row>
            <Row label={t('receipt.receivingAgency')}>{agencyText(d.receiving_agency, receiving)}</Row>
            <Row label={t('receipt.handlingAgency')}>{agencyText(d.handling_agency, handling)}</Row>
            {(official || d.assignee) && <Row label={t('dossier.assignee')}>{d.assignee ?? '—'}</Row>}
            <Row label={t('receipt.processing')}>{workingDaysText(d.working_days)}</Row>
            <Row label={t('receipt.submittedAt')}>{dateTimeText(d.submitted_at)}</Row>
            <Row label={t('receipt.receivedAt')}>
              {d.received_at ? dateTimeText(d.received_at) : t('receipt.notReceived')}
            </Row>
            <Row label={t('receipt.dueAt')} testid="dossier-due">
              {d.due_at ? dateTimeText(d.due_at) : t('receipt.notYet')} <DueFlags d={d} />
            </Row>
            {d.finished_at && <Row label={t('dossier.finishedAt')}>{dateTimeText(d.finished_at)}</Row>}
            {d.returned_at && (
              <Row label={t('dossier.returnedAt')}>
                {dateTimeText(d.returned_at)}
                {d.on_time != null && (
                  <span class={d.on_time ? 'flag flag-ok' : 'flag flag-overdue'}>
                    {d.on_time ? t('dossier.onTime') : t('dossier.late')}
                  </span>
                )}
              </Row>
            )}
          </dl>
        </section>
        <section aria-labelledby="applicant-title">
          <h2 id="applicant-title">{t('dossier.applicantSection')}</h2>
          <dl class="fields">
            <Row label={t('dnew.fullName')} testid="dossier-applicant">
              {a.full_name}
            </Row>
            {idNumber && <Row label={t('dossier.personalId')}>{idNumber}</Row>}
            {a.tax_code && <Row label={t('dnew.taxCode')}>{a.tax_code}</Row>}
            {a.phone && <Row label={t('dnew.phone')}>{a.phone}</Row>}
            {a.email && <Row label={t('dnew.email')}>{a.email}</Row>}
            {a.address && <Row label={t('dnew.address')}>{a.address}</Row>}
            <Row label={t('receipt.components')}>
              {d.components && d.components.length ? (
                <ul>
                  {d.components.map((c, i) => (
                    <li key={i}>{c}</li>
                  ))}
                </ul>
              ) : (
                t('common.none')
              )}
            </Row>
            {form.length > 0 && (
              <Row label={t('dossier.form')}>
                <dl class="kv">
                  {form.map(([k, v]) => (
                    <div key={k}>
                      <dt>{k}</dt>
                      <dd>{v}</dd>
                    </div>
                  ))}
                </dl>
              </Row>
            )}
          </dl>
        </section>
      </div>
      <WalletReferences d={d} />
      {(d.allowed_actions.length > 0 || official) && <Actions d={d} onUpdated={onUpdated} onReload={onReload} />}
      {d.status === 'returned' && isApplicant(user) && <Rating d={d} onUpdated={(x) => onUpdated(x)} />}
      <Timeline d={d} />
      <p class="actions-row no-print">
        {hasResult(d) && <ResultPdfButton d={d} />}
        <Link class="btn btn-secondary" href={`/dossiers/${encodeURIComponent(d.code)}/receipt`}>
          {t('dossier.receipt')}
        </Link>
        {isApplicant(user) && (
          <Link class="btn btn-secondary" href="/me/dossiers">
            {t('dossier.backMine')}
          </Link>
        )}
        {official && (
          <Link class="btn btn-secondary" href="/queue">
            {t('dossier.backQueue')}
          </Link>
        )}
      </p>
    </>
  );
}

export function DossierDetail({ code }: { code: string }) {
  useTitle(t('dossier.title', { code }));
  const user = useUser();
  const [d, setD] = useState<Dossier | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [notice, setNotice] = useState('');

  const load = async () => {
    setLoading(true);
    try {
      setD(await api.dossier(code));
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setD(null);
    setNotice('');
    if (user) void load();
  }, [code, user?.username]);

  if (!user) {
    return (
      <>
        <h1>{t('dossier.title', { code })}</h1>
        <NeedLogin />
      </>
    );
  }
  return (
    <article class="dossier">
      <p class="notice" role="status" aria-live="polite" data-testid="notice">
        {notice}
      </p>
      {loading && !d && <Loading />}
      {error !== undefined && !d && (
        <>
          <h1>{t('dossier.title', { code })}</h1>
          {error instanceof ApiError && error.status === 404 ? (
            <div class="alert alert-error" role="alert">
              {t('dossier.notFound', { code })}
            </div>
          ) : (
            <ErrorBox error={error} onRetry={() => void load()} />
          )}
        </>
      )}
      {d && (
        <View
          d={d}
          onReload={async () => {
            setNotice('');
            await load();
          }}
          onUpdated={(next, action) => {
            setD(next);
            setNotice(
              action
                ? t('dossier.done', { action: actionLabel(action), status: statusLabel(next.status, next.status_label) })
                : '',
            );
            void refreshUnread();
          }}
        />
      )}
    </article>
  );
}
