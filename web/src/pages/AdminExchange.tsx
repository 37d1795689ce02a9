import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, API_KEY_SCOPES, type ApiKey, type DataService, type Grant } from '../api';
import { t } from '../i18n';
import { dateText, dateTimeText } from '../format';
import { Link } from '../router';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, useAsync, useTitle } from '../ui';

type FormError = { message: string; field?: string } | null;

function formError(err: unknown): FormError {
  return { message: errorMessage(err), field: err instanceof ApiError ? err.problem.field : undefined };
}

/** City admins only: the login prompt or the refusal, else the page. */
function CityAdminOnly({ title, children }: { title: string; children: () => ComponentChildren }) {
  const user = useUser();
  return (
    <>
      <h1>{title}</h1>
      {!user ? (
        <div class="alert alert-info" role="alert">
          <p>{t('users.needLogin')}</p>
          <p>
            <Link href="/login">{t('nav.login')}</Link>
          </p>
        </div>
      ) : user.role !== 'city_admin' ? (
        <div class="alert alert-error" role="alert">
          {t('exchange.cityAdminsOnly')}
        </div>
      ) : (
        children()
      )}
    </>
  );
}

function inAYear(): string {
  const d = new Date();
  d.setFullYear(d.getFullYear() + 1);
  return d.toISOString().slice(0, 10);
}

function CreateGrant({ services, onCreated }: { services: DataService[]; onCreated: (g: Grant) => void }) {
  const empty = {
    consumer_agency: '',
    service: services[0]?.code ?? '',
    legal_basis: '',
    purpose: '',
    expires_on: inAYear(),
  };
  const [form, setForm] = useState(empty);
  const [fields, setFields] = useState<string[]>([]);
  const [error, setError] = useState<FormError>(null);
  const [busy, setBusy] = useState(false);
  const service = services.find((s) => s.code === form.service);
  const set = (k: keyof typeof empty) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement }) => {
    setForm({ ...form, [k]: e.currentTarget.value });
    if (k === 'service') setFields([]);
  };
  const toggle = (f: string, on: boolean) => setFields((cur) => (on ? [...cur.filter((x) => x !== f), f] : cur.filter((x) => x !== f)));
  const invalid = (f: string) => (error?.field === f ? true : undefined);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const g = await api.createGrant({
        consumer_agency: form.consumer_agency.trim(),
        service: form.service,
        fields: service ? service.fields.filter((f) => fields.includes(f)) : fields,
        legal_basis: form.legal_basis.trim().normalize('NFC'),
        purpose: form.purpose.trim().normalize('NFC'),
        expires_on: form.expires_on,
      });
      onCreated(g);
      setForm({ ...empty, service: form.service });
      setFields([]);
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="grant-create-title" class="panel">
      <h2 id="grant-create-title">{t('exchange.create')}</h2>
      <form class="form grid-form" onSubmit={onSubmit} noValidate data-testid="grant-form">
        <Field id="g-consumer" label={t('exchange.consumer')} hint={t('exchange.consumerHint')}>
          <input
            id="g-consumer"
            autocomplete="off"
            required
            value={form.consumer_agency}
            onInput={set('consumer_agency')}
            aria-describedby="g-consumer-hint"
            aria-invalid={invalid('consumer_agency')}
          />
        </Field>
        <Field id="g-service" label={t('exchange.service')}>
          <select id="g-service" value={form.service} onChange={set('service')} aria-invalid={invalid('service')}>
            {services.map((s) => (
              <option key={s.code} value={s.code}>
                {s.title} ({s.code})
              </option>
            ))}
          </select>
        </Field>
        <fieldset class="choices full" aria-invalid={invalid('fields')}>
          <legend>{t('exchange.fields')}</legend>
          {(service?.fields ?? []).map((f) => (
            <label key={f} class="choice">
              <input
                type="checkbox"
                name="fields"
                value={f}
                checked={fields.includes(f)}
                onChange={(e) => toggle(f, e.currentTarget.checked)}
              />
              <span>{f}</span>
            </label>
          ))}
        </fieldset>
        <Field id="g-legal" label={t('exchange.legalBasis')}>
          <input id="g-legal" autocomplete="off" required value={form.legal_basis} onInput={set('legal_basis')} aria-invalid={invalid('legal_basis')} />
        </Field>
        <Field id="g-purpose" label={t('exchange.purpose')}>
          <input id="g-purpose" autocomplete="off" required value={form.purpose} onInput={set('purpose')} aria-invalid={invalid('purpose')} />
        </Field>
        <Field id="g-expires" label={t('exchange.expiresOn')}>
          <input id="g-expires" type="date" required value={form.expires_on} onInput={set('expires_on')} aria-invalid={invalid('expires_on')} />
        </Field>
        <div class="form-error full" role="alert" data-testid="grant-error">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('exchange.createSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function statusLabel(g: Grant): string {
  return t(`exchange.status.${g.status}` as never);
}

function GrantTable({ grants, busy, onRevoke }: { grants: Grant[]; busy: number; onRevoke: (g: Grant) => void }) {
  return (
    <table class="table users-table" data-testid="grants">
      <thead>
        <tr>
          <th scope="col">{t('exchange.consumer')}</th>
          <th scope="col">{t('exchange.service')}</th>
          <th scope="col">{t('exchange.fields')}</th>
          <th scope="col">{t('exchange.legalBasis')}</th>
          <th scope="col">{t('exchange.purpose')}</th>
          <th scope="col">{t('exchange.expiresOn')}</th>
          <th scope="col">{t('users.status')}</th>
          <th scope="col">{t('users.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {grants.map((g) => (
          <tr key={g.id} data-grant={g.id} data-status={g.status}>
            <td data-label={t('exchange.consumer')}>
              <code>{g.consumer_agency}</code>
            </td>
            <td data-label={t('exchange.service')}>
              <code>{g.service}</code>
            </td>
            <td data-label={t('exchange.fields')}>{g.fields.join(', ')}</td>
            <td data-label={t('exchange.legalBasis')}>{g.legal_basis}</td>
            <td data-label={t('exchange.purpose')}>{g.purpose}</td>
            <td data-label={t('exchange.expiresOn')}>{dateTimeText(g.expires_at)}</td>
            <td data-label={t('users.status')}>
              <span class={g.status === 'active' ? 'status status-on' : 'status status-off'}>{statusLabel(g)}</span>
            </td>
            <td data-label={t('users.actions')}>
              {g.status === 'active' && (
                <button
                  type="button"
                  class="btn btn-danger btn-small"
                  disabled={busy === g.id}
                  aria-label={t('exchange.revokeLabel', { agency: g.consumer_agency, service: g.service })}
                  onClick={() => onRevoke(g)}
                >
                  {t('exchange.revoke')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ManageGrants() {
  const services = useAsync((signal) => api.dataServices(signal), []);
  const grants = useAsync((signal) => api.grants(signal), []);
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(0);
  const onRevoke = async (g: Grant) => {
    if (!window.confirm(t('exchange.revokeConfirm', { agency: g.consumer_agency, service: g.service }))) return;
    setBusy(g.id);
    setActionError(null);
    setNotice('');
    try {
      await api.revokeGrant(g.id);
      setNotice(t('exchange.revoked', { agency: g.consumer_agency, service: g.service }));
      grants.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(0);
    }
  };
  return (
    <>
      <p class="lead">{t('exchange.lead')}</p>
      <p class="notice" role="status" aria-live="polite" data-testid="exchange-notice">
        {notice}
      </p>
      {actionError !== null && <ErrorBox error={actionError} />}
      <section aria-labelledby="services-title">
        <h2 id="services-title">{t('exchange.services')}</h2>
        {services.loading && !services.data && <Loading />}
        {services.error !== undefined && <ErrorBox error={services.error} onRetry={services.reload} />}
        {services.data && (
          <ul class="plain" data-testid="services">
            {services.data.items.map((s) => (
              <li key={s.code}>
                <strong>{s.title}</strong> — <code>{s.code}</code>, {t('exchange.provider', { agency: s.provider_agency })};{' '}
                {t('exchange.offers', { fields: s.fields.join(', ') })}
              </li>
            ))}
          </ul>
        )}
      </section>
      {services.data && (
        <CreateGrant
          services={services.data.items}
          onCreated={(g) => {
            setNotice(t('exchange.created', { agency: g.consumer_agency, service: g.service }));
            grants.reload();
          }}
        />
      )}
      <section aria-labelledby="grants-title">
        <h2 id="grants-title">{t('exchange.grants')}</h2>
        {grants.loading && !grants.data && <Loading />}
        {grants.error !== undefined && <ErrorBox error={grants.error} onRetry={grants.reload} />}
        {grants.data && (
          <>
            <p class="muted">{t('exchange.count', { n: grants.data.items.length })}</p>
            <GrantTable grants={grants.data.items} busy={busy} onRevoke={onRevoke} />
          </>
        )}
      </section>
    </>
  );
}

/** City admins: the data services on offer and the grants that let agencies read them. */
export function AdminExchange() {
  useTitle(t('exchange.title'));
  return <CityAdminOnly title={t('exchange.title')}>{() => <ManageGrants />}</CityAdminOnly>;
}

function CreateKey({ onCreated }: { onCreated: (k: ApiKey) => void }) {
  const empty = { name: '', agency_code: '' };
  const [form, setForm] = useState(empty);
  const [scopes, setScopes] = useState<string[]>([]);
  const [error, setError] = useState<FormError>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof empty) => (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [k]: e.currentTarget.value });
  const invalid = (f: string) => (error?.field === f ? true : undefined);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const k = await api.createApiKey({
        name: form.name.trim().normalize('NFC'),
        agency_code: form.agency_code.trim(),
        scopes: API_KEY_SCOPES.filter((s) => scopes.includes(s)),
      });
      onCreated(k);
      setForm(empty);
      setScopes([]);
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="key-create-title" class="panel">
      <h2 id="key-create-title">{t('apikeys.create')}</h2>
      <form class="form grid-form" onSubmit={onSubmit} noValidate data-testid="key-form">
        <Field id="k-name" label={t('apikeys.name')} hint={t('apikeys.nameHint')}>
          <input id="k-name" autocomplete="off" required value={form.name} onInput={set('name')} aria-describedby="k-name-hint" aria-invalid={invalid('name')} />
        </Field>
        <Field id="k-agency" label={t('users.agency')} hint={t('apikeys.agencyHint')}>
          <input
            id="k-agency"
            autocomplete="off"
            required
            value={form.agency_code}
            onInput={set('agency_code')}
            aria-describedby="k-agency-hint"
            aria-invalid={invalid('agency_code')}
          />
        </Field>
        <fieldset class="choices full" aria-invalid={invalid('scopes')}>
          <legend>{t('apikeys.scopes')}</legend>
          {API_KEY_SCOPES.map((s) => (
            <label key={s} class="choice">
              <input
                type="checkbox"
                name="scopes"
                value={s}
                checked={scopes.includes(s)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setScopes((cur) => (on ? [...cur.filter((x) => x !== s), s] : cur.filter((x) => x !== s)));
                }}
              />
              <span>
                <code>{s}</code> — {t(`apikeys.scope.${s}` as never)}
              </span>
            </label>
          ))}
        </fieldset>
        <div class="form-error full" role="alert" data-testid="key-error">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('apikeys.createSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function ManageKeys() {
  const keys = useAsync((signal) => api.apiKeys(signal), []);
  const [secret, setSecret] = useState<ApiKey | null>(null);
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(0);
  const onRevoke = async (k: ApiKey) => {
    if (!window.confirm(t('apikeys.revokeConfirm', { name: k.name }))) return;
    setBusy(k.id);
    setActionError(null);
    setNotice('');
    try {
      await api.revokeApiKey(k.id);
      setNotice(t('apikeys.revoked', { name: k.name }));
      if (secret?.id === k.id) setSecret(null);
      keys.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(0);
    }
  };
  return (
    <>
      <p class="lead">{t('apikeys.lead')}</p>
      <p class="notice" role="status" aria-live="polite">
        {notice}
      </p>
      {secret?.secret && (
        <div class="alert alert-success" role="status" data-testid="key-secret">
          <p>{t('apikeys.secretOnce', { name: secret.name })}</p>
          <p>
            <code class="secret">{secret.secret}</code>
          </p>
        </div>
      )}
      {actionError !== null && <ErrorBox error={actionError} />}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">{t('apikeys.list')}</h2>
        {keys.loading && !keys.data && <Loading />}
        {keys.error !== undefined && <ErrorBox error={keys.error} onRetry={keys.reload} />}
        {keys.data &&
          (keys.data.items.length === 0 ? (
            <p class="empty">{t('apikeys.none')}</p>
          ) : (
            <table class="table users-table" data-testid="keys">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{t('apikeys.name')}</th>
                  <th scope="col">{t('users.agency')}</th>
                  <th scope="col">{t('apikeys.scopes')}</th>
                  <th scope="col">{t('apikeys.createdAt')}</th>
                  <th scope="col">{t('users.status')}</th>
                  <th scope="col">{t('users.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {keys.data.items.map((k) => (
                  <tr key={k.id} data-key={k.id} data-status={k.revoked_at ? 'revoked' : 'active'}>
                    <td data-label="#">{k.id}</td>
                    <td data-label={t('apikeys.name')}>{k.name}</td>
                    <td data-label={t('users.agency')}>
                      <code>{k.agency_code}</code>
                    </td>
                    <td data-label={t('apikeys.scopes')}>{k.scopes.join(', ')}</td>
                    <td data-label={t('apikeys.createdAt')}>{dateText(k.created_at)}</td>
                    <td data-label={t('users.status')}>
                      <span class={k.revoked_at ? 'status status-off' : 'status status-on'}>
                        {k.revoked_at ? t('apikeys.revokedOn', { at: dateTimeText(k.revoked_at) }) : t('apikeys.active')}
                      </span>
                    </td>
                    <td data-label={t('users.actions')}>
                      {!k.revoked_at && (
                        <button
                          type="button"
                          class="btn btn-danger btn-small"
                          disabled={busy === k.id}
                          aria-label={t('apikeys.revokeLabel', { name: k.name })}
                          onClick={() => onRevoke(k)}
                        >
                          {t('exchange.revoke')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
      <CreateKey
        onCreated={(k) => {
          setSecret(k);
          setNotice('');
          keys.reload();
        }}
      />
    </>
  );
}

/** City admins: API keys of other agencies' systems; a new key's secret is shown once. */
export function AdminApiKeys() {
  useTitle(t('apikeys.title'));
  return <CityAdminOnly title={t('apikeys.title')}>{() => <ManageKeys />}</CityAdminOnly>;
}
