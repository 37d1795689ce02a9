import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DossierSummary } from '../api';
import { t } from '../i18n';
import { isApplicant } from '../dossier';
import { Link } from '../router';
import { useUser } from '../session';
import { ErrorBox, LoadMore, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';
import { DossierTable } from './dossierTable';

function List() {
  const [items, setItems] = useState<DossierSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const req = useRef(0);
  const load = async (cursor: string | null) => {
    const id = ++req.current;
    setLoading(true);
    setError(null);
    try {
      const page = await api.myDossiers(cursor);
      if (id !== req.current) return;
      setItems((prev) => (cursor && prev ? [...prev, ...page.items] : page.items));
      setNext(page.next_cursor);
    } catch (e) {
      if (id === req.current) setError(e);
    } finally {
      if (id === req.current) setLoading(false);
    }
  };
  useEffect(() => void load(null), []);
  return (
    <>
      <p class="result-count" role="status" aria-live="polite">
        {loading && !items ? t('common.loading') : items ? (next ? t('q.shown', { n: items.length }) : t('q.all', { n: items.length })) : ''}
      </p>
      {error !== null && <ErrorBox error={error} onRetry={() => void load(null)} />}
      {items && items.length === 0 && (
        <div class="empty">
          <p>{t('mine.none')}</p>
          <p>
            <Link href="/procedures">{t('mine.find')}</Link>
          </p>
        </div>
      )}
      {items && items.length > 0 && <DossierTable items={items} official={false} />}
      <LoadMore next={next} loading={loading} onMore={(c) => void load(c)} />
    </>
  );
}

export function MyDossiers() {
  useTitle(t('mine.title'));
  const user = useUser();
  return (
    <section>
      <h1>{t('mine.title')}</h1>
      {!user ? <NeedLogin /> : !isApplicant(user) ? <NoPermission message={t('mine.onlyApplicants')} /> : <List key={user.username} />}
    </section>
  );
}
