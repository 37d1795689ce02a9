import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { login } from '../auth';
import { t } from '../i18n';
import { navigate, useLocation } from '../router';
import { safeNext } from '../dossier';
import { useUser } from '../session';
import { errorMessage, Field, useTitle } from '../ui';

export function Login() {
  useTitle(t('login.title'));
  const user = useUser();
  const next = safeNext(useLocation().search.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!username.trim() || !password) {
      setError(t('login.required'));
      return;
    }
    setBusy(true);
    setError('');
    try {
      await login(username.trim(), password);
      setPassword('');
      navigate(next ?? '/');
    } catch (err) {
      // Prefer the server's problem `detail`; fall back to our own wording.
      if (err instanceof ApiError && !err.problem.detail) {
        setError(err.status === 429 ? t('login.rateLimited') : err.status === 401 ? t('login.failed') : errorMessage(err));
      } else {
        setError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <h1>{t('login.title')}</h1>
      {user && <p class="alert alert-info">{t('login.already', { name: user.full_name })}</p>}
      <form class="form" onSubmit={onSubmit} noValidate>
        <Field id="login-username" label={t('login.username')}>
          <input
            id="login-username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
            required
          />
        </Field>
        <Field id="login-password" label={t('login.password')}>
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
            required
          />
        </Field>
        <div id="login-error" class="form-error" role="alert" aria-live="assertive">
          {error}
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
    </section>
  );
}
