import { useState } from 'preact/hooks';
import { api, ApiError, ROLES, type ManagedUser } from '../api';
import { t } from '../i18n';
import { roleName } from '../format';
import { Link } from '../router';
import { isAdmin, useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, useAsync, useTitle } from '../ui';

function CreateUser({ onCreated }: { onCreated: (username: string) => void }) {
  const empty = { username: '', full_name: '', role: 'desk_officer', agency_code: '', password: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof empty) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setForm({ ...form, [k]: e.currentTarget.value });

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await api.createUser({
        username: form.username.trim(),
        full_name: form.full_name.trim().normalize('NFC'),
        role: form.role,
        password: form.password,
        ...(form.agency_code.trim() ? { agency_code: form.agency_code.trim() } : {}),
      });
      onCreated(form.username.trim());
      setForm(empty);
    } catch (err) {
      setError({ message: errorMessage(err), field: err instanceof ApiError ? err.problem.field : undefined });
    } finally {
      setBusy(false);
    }
  };
  const invalid = (f: string) => (error?.field === f ? true : undefined);

  return (
    <section aria-labelledby="create-title" class="panel">
      <h2 id="create-title">{t('users.create')}</h2>
      <form class="form grid-form" onSubmit={onSubmit}>
        <Field id="nu-username" label={t('users.username')}>
          <input
            id="nu-username"
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            required
            value={form.username}
            onInput={set('username')}
            aria-invalid={invalid('username')}
          />
        </Field>
        <Field id="nu-fullname" label={t('users.fullName')}>
          <input
            id="nu-fullname"
            autocomplete="off"
            required
            value={form.full_name}
            onInput={set('full_name')}
            aria-invalid={invalid('full_name')}
          />
        </Field>
        <Field id="nu-role" label={t('users.role')}>
          <select id="nu-role" value={form.role} onChange={set('role')} aria-invalid={invalid('role')}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="nu-agency" label={t('users.agency')} hint={t('users.agencyHint')}>
          <input
            id="nu-agency"
            autocomplete="off"
            value={form.agency_code}
            onInput={set('agency_code')}
            aria-describedby="nu-agency-hint"
            aria-invalid={invalid('agency_code')}
          />
        </Field>
        <Field id="nu-password" label={t('users.password')} hint={t('users.passwordHint')}>
          <input
            id="nu-password"
            type="password"
            autocomplete="new-password"
            required
            value={form.password}
            onInput={set('password')}
            aria-describedby="nu-password-hint"
            aria-invalid={invalid('password')}
          />
        </Field>
        <div class="form-error full" role="alert">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('users.createSubmit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function UserTable({
  users,
  me,
  onDisable,
  busy,
}: {
  users: ManagedUser[];
  me: string;
  onDisable: (u: string) => void;
  busy: string;
}) {
  return (
    <table class="table users-table">
      <thead>
        <tr>
          <th scope="col">{t('users.username')}</th>
          <th scope="col">{t('users.fullName')}</th>
          <th scope="col">{t('users.role')}</th>
          <th scope="col">{t('users.agency')}</th>
          <th scope="col">{t('users.status')}</th>
          <th scope="col">{t('users.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {users.map((u) => (
          <tr key={u.username}>
            <td data-label={t('users.username')}>
              <code>{u.username}</code>
            </td>
            <td data-label={t('users.fullName')}>{u.full_name}</td>
            <td data-label={t('users.role')}>{roleName(u.role)}</td>
            <td data-label={t('users.agency')}>{u.agency_code ?? '—'}</td>
            <td data-label={t('users.status')}>
              <span class={u.disabled ? 'status status-off' : 'status status-on'}>
                {u.disabled ? t('users.disabled') : t('users.active')}
              </span>
            </td>
            <td data-label={t('users.actions')}>
              {!u.disabled && u.username !== me && (
                <button
                  type="button"
                  class="btn btn-danger btn-small"
                  disabled={busy === u.username}
                  aria-label={t('users.disableLabel', { name: u.username })}
                  onClick={() => onDisable(u.username)}
                >
                  {t('users.disable')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Manage({ me }: { me: string }) {
  const users = useAsync(() => api.users(), []);
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');

  const onDisable = async (username: string) => {
    setBusy(username);
    setActionError(null);
    setNotice('');
    try {
      await api.disableUser(username);
      setNotice(t('users.disabledOk', { name: username }));
      users.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy('');
    }
  };

  return (
    <>
      <p class="notice" role="status" aria-live="polite">
        {notice}
      </p>
      {actionError !== null && <ErrorBox error={actionError} />}
      <section aria-labelledby="list-title">
        <h2 id="list-title">{t('users.list')}</h2>
        {users.loading && !users.data && <Loading />}
        {users.error !== undefined && <ErrorBox error={users.error} onRetry={users.reload} />}
        {users.data && (
          <>
            <p class="muted">{t('users.count', { n: users.data.items.length })}</p>
            <UserTable users={users.data.items} me={me} onDisable={onDisable} busy={busy} />
          </>
        )}
      </section>
      <CreateUser
        onCreated={(name) => {
          setNotice(t('users.created', { name }));
          users.reload();
        }}
      />
    </>
  );
}

export function AdminUsers() {
  useTitle(t('users.title'));
  const user = useUser();
  return (
    <>
      <h1>{t('users.title')}</h1>
      {!user ? (
        <div class="alert alert-info" role="alert">
          <p>{t('users.needLogin')}</p>
          <p>
            <Link href="/login">{t('nav.login')}</Link>
          </p>
        </div>
      ) : !isAdmin(user) ? (
        <div class="alert alert-error" role="alert">
          {t('users.noPermission')}
        </div>
      ) : (
        <Manage me={user.username} />
      )}
    </>
  );
}
