import { useEffect, useState } from 'preact/hooks';
import { api, fetchFile, type ShareLink, type Verification } from '../api';
import { t } from '../i18n';
import { dateText, dateTimeText } from '../format';
import { Link, useLocation } from '../router';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Field, Loading, useAsync, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';

export function VerdictBox({ v }: { v: Verification }) {
  const ok = v.status === 'valid';
  return (
    <div class={ok ? 'alert alert-success' : 'alert alert-error'} role="status" data-testid="verdict" data-status={v.status}>
      <p>
        <strong>{t(`verify.status.${v.status}` as never)}</strong>
        {v.title ? ` — ${v.title}` : ''}
        {v.issuer_agency ? ` (${v.issuer_agency}${v.issued_on ? `, ${dateText(v.issued_on)}` : ''})` : ''}
      </p>
      <p class="note-meta">{v.reason}</p>
    </div>
  );
}

/** Citizens: my documents (signed results, scans), each verifiable and shareable. */
export function Wallet() {
  useTitle(t('wallet.title'));
  const user = useUser();
  const res = useAsync((signal) => (user?.role === 'citizen' ? api.myWallet(signal) : Promise.resolve(null)), [user?.username]);
  const [verdicts, setVerdicts] = useState<Record<string, Verification>>({});
  const [links, setLinks] = useState<Record<string, ShareLink>>({});
  const [error, setError] = useState<unknown>(null);
  if (!user) return <NeedLogin />;
  if (user.role !== 'citizen') return <NoPermission message={t('mydata.citizensOnly')} />;
  if (res.loading && !res.data) return <Loading />;
  if (res.error !== undefined) return <ErrorBox error={res.error} onRetry={res.reload} />;
  const items = res.data?.items ?? [];
  const verify = async (id: string) => {
    try {
      const v = await api.verifyDocument(id);
      setVerdicts((m) => ({ ...m, [id]: v }));
    } catch (e) {
      setError(e);
    }
  };
  const downloadPdf = async (id: string) => {
    setError(null);
    try {
      const url = URL.createObjectURL(await fetchFile(`/api/v1/me/wallet/${encodeURIComponent(id)}/pdf`));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${id}.pdf`;
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(e);
    }
  };
  const share = async (id: string) => {
    try {
      const l = await api.share(id, 24);
      setLinks((m) => ({ ...m, [id]: l }));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <h1>{t('wallet.title')}</h1>
      <p class="lead">{t('wallet.lead')}</p>
      {error !== null && <ErrorBox error={error} />}
      {items.length === 0 ? (
        <p class="empty" data-testid="wallet-empty">
          {t('wallet.empty')}
        </p>
      ) : (
        <ul class="inbox" data-testid="wallet">
          {items.map((d) => (
            <li key={d.id} class="note">
              <h2 class="note-title">{d.title}</h2>
              <p class="note-meta">
                {d.number} · {d.issuer_agency || t('wallet.ownScan')} · {dateText(d.issued_on) || '—'} ·{' '}
                {t(`wallet.state.${d.state}` as never)}
              </p>
              <p>
                <button type="button" class="btn btn-secondary btn-small" onClick={() => void verify(d.id)}>
                  {t('wallet.verify')}
                </button>{' '}
                <button type="button" class="btn btn-secondary btn-small" onClick={() => void share(d.id)}>
                  {t('wallet.share')}
                </button>
                {d.state !== 'unverified' && (
                  <>
                    {' '}
                    <button
                      type="button"
                      class="btn btn-secondary btn-small"
                      data-testid="wallet-pdf"
                      onClick={() => void downloadPdf(d.id)}
                    >
                      {t('wallet.pdf')}
                    </button>
                  </>
                )}
              </p>
              <div aria-live="polite">
                {verdicts[d.id] && <VerdictBox v={verdicts[d.id]} />}
                {links[d.id] && (
                  <p data-testid="share-link">
                    {t('wallet.shareLink')}{' '}
                    <a href={links[d.id].url}>{location.origin + links[d.id].url}</a> (
                    {t('wallet.expires', { at: dateTimeText(links[d.id].expires_at) })})
                  </p>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link href="/verify">{t('verify.title')}</Link>
      </p>
    </section>
  );
}

/** Anyone: verify a document by its id (printed on the document and in its QR code). */
export function Verify() {
  useTitle(t('verify.title'));
  const linked = useLocation().search.get('id') ?? '';
  const [id, setId] = useState(linked);
  const [v, setV] = useState<Verification | null>(null);
  const [error, setError] = useState('');
  // Opened from a document's QR code (/verify?id=...): verify it at once.
  useEffect(() => {
    if (!linked.trim()) return;
    api.verifyDocument(linked.trim()).then(setV, (err: unknown) => setError(errorMessage(err)));
  }, [linked]);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setV(null);
    if (!id.trim()) return setError(t('verify.needId'));
    try {
      setV(await api.verifyDocument(id.trim()));
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <section class="narrow-wide">
      <h1>{t('verify.title')}</h1>
      <p class="lead">{t('verify.lead')}</p>
      <form class="form grid-form panel" onSubmit={onSubmit} noValidate>
        <Field id="verify-id" label={t('verify.id')}>
          <input id="verify-id" autocomplete="off" value={id} aria-describedby="verify-error" onInput={(e) => setId(e.currentTarget.value)} />
        </Field>
        <div id="verify-error" class="form-error full" role="alert">
          {error}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary">
            {t('verify.submit')}
          </button>
        </div>
      </form>
      <div aria-live="polite">{v && <VerdictBox v={v} />}</div>
    </section>
  );
}
