import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type PublicDossier } from '../api';
import { t } from '../i18n';
import { statusClass, statusLabel } from '../dossier';
import { dateTimeText } from '../format';
import { navigate, useLocation, withQuery } from '../router';
import { errorMessage, Field, Row, useTitle } from '../ui';
import { DueFlags } from './DossierDetail';

/** Public status page: dossier code + last 4 digits of the ID or phone number; no login. */
export function Track() {
  useTitle(t('track.title'));
  const loc = useLocation();
  const [code, setCode] = useState(loc.search.get('code') ?? '');
  const [check, setCheck] = useState('');
  const [result, setResult] = useState<PublicDossier | null>(null);
  const [error, setError] = useState<{ message: string; field?: 'code' | 'check' } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const c = loc.search.get('code');
    if (c && c !== code) setCode(c);
  }, [loc.search.get('code')]);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const c = code.trim().toUpperCase();
    const digits = check.trim();
    if (!c || !/^\d{4}$/.test(digits)) {
      setError({ message: t('track.invalid'), field: !c ? 'code' : 'check' });
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.publicDossier(c, digits));
      // Keep the code (never the digits) in the address bar so the page can be bookmarked.
      navigate(withQuery(loc.path, { code: c }), { replace: true });
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError({
        message: status === 404 ? t('track.notFound') : status === 429 ? t('track.rateLimited') : errorMessage(err),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow-wide">
      <h1>{t('track.title')}</h1>
      <p class="lead">{t('track.lead')}</p>
      <form class="form grid-form panel track-form" onSubmit={onSubmit} noValidate role="search">
        <Field id="track-code" label={t('track.code')} hint={t('track.codeHint')}>
          <input
            id="track-code"
            name="code"
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            required
            value={code}
            aria-invalid={error?.field === 'code' ? true : undefined}
            aria-describedby="track-code-hint track-error"
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </Field>
        <Field id="track-check" label={t('track.check')}>
          <input
            id="track-check"
            name="check"
            inputMode="numeric"
            pattern="[0-9]{4}"
            maxLength={4}
            autocomplete="off"
            required
            value={check}
            aria-invalid={error?.field === 'check' ? true : undefined}
            aria-describedby="track-error"
            onInput={(e) => setCheck(e.currentTarget.value)}
          />
        </Field>
        <div id="track-error" class="form-error full" role="alert">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('track.submit')}
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {result && (
          <section aria-labelledby="track-result-title" data-testid="track-result">
            <h2 id="track-result-title">{t('track.result')}</h2>
            <dl class="fields">
              <Row label={t('receipt.code')}>{result.code}</Row>
              <Row label={t('receipt.procedure')}>{result.procedure}</Row>
              <Row label={t('dossier.status')} testid="track-status">
                <span class={statusClass(result.status)}>{statusLabel(result.status, result.status_label)}</span>{' '}
                <DueFlags d={{ overdue: result.overdue, due_soon: false, paused: false }} />
              </Row>
              <Row label={t('receipt.submittedAt')}>{dateTimeText(result.submitted_at)}</Row>
              <Row label={t('receipt.receivedAt')}>
                {result.received_at ? dateTimeText(result.received_at) : t('receipt.notReceived')}
              </Row>
              <Row label={t('receipt.dueAt')}>{result.due_at ? dateTimeText(result.due_at) : t('receipt.notYet')}</Row>
              {result.finished_at && <Row label={t('dossier.finishedAt')}>{dateTimeText(result.finished_at)}</Row>}
              {result.returned_at && <Row label={t('dossier.returnedAt')}>{dateTimeText(result.returned_at)}</Row>}
            </dl>
            <p class="muted">{t('common.timeNote')}</p>
          </section>
        )}
      </div>
    </section>
  );
}
