import { useState } from 'preact/hooks';
import { api, type AdminUnit, type ResolveResponse } from '../api';
import { t, tOr } from '../i18n';
import { Link } from '../router';
import { ErrorBox, Loading, useAsync, useTitle } from '../ui';
import { UnitList } from './unitList';

function Resolve({ provinces }: { provinces: AdminUnit[] }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ResolveResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const provinceName = (code: string | null) => provinces.find((p) => p.code === code)?.name;

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const q = name.trim();
    if (!q || busy) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await api.resolve(q.normalize('NFC')));
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="resolve-title" class="panel">
      <h2 id="resolve-title">{t('units.resolveTitle')}</h2>
      <form class="search-form" onSubmit={onSubmit}>
        <div class="field">
          <label for="resolve-name">{t('units.resolveLabel')}</label>
          <div class="search-row">
            <input
              id="resolve-name"
              name="name"
              type="search"
              autocomplete="off"
              placeholder={t('units.resolvePlaceholder')}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {t('units.resolveSubmit')}
            </button>
          </div>
        </div>
      </form>
      <div role="status" aria-live="polite" data-testid="resolve-status">
        {result &&
          (result.matches.length
            ? t('units.resolveCount', { n: result.matches.length, name: result.query })
            : t('units.resolveNone', { name: result.query }))}
      </div>
      {error !== null && <ErrorBox error={error} />}
      {result && result.matches.length > 0 && (
        <ul class="resolve-list" data-testid="resolve-results">
          {result.matches.map((m, i) => (
            <li key={i}>
              {m.via ? (
                <span>
                  {t('units.resolveVia', {
                    old: m.via.name,
                    type: tOr(`units.type.${m.via.type}`, m.via.type),
                  })}{' '}
                </span>
              ) : (
                <span>{t('units.resolveCurrent')}: </span>
              )}
              <Link href={`/units/${encodeURIComponent(m.unit.code)}`}>
                <strong>{m.unit.name}</strong>
              </Link>
              {m.unit.parent_code && provinceName(m.unit.parent_code) && (
                <span class="muted"> — {provinceName(m.unit.parent_code)}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Units() {
  useTitle(t('units.title'));
  const { data, error, loading, reload } = useAsync((signal) => api.provinces(signal), []);
  const provinces = data?.items ?? [];
  return (
    <>
      <h1>{t('units.title')}</h1>
      <p class="lead">{t('units.lead')}</p>
      <Resolve provinces={provinces} />
      <section aria-labelledby="provinces-title">
        <h2 id="provinces-title">{t('units.provinces')}</h2>
        {loading && <Loading />}
        {error !== undefined && <ErrorBox error={error} onRetry={reload} />}
        {data && <UnitList id="provinces" units={provinces} countKey="units.provinceCount" />}
      </section>
    </>
  );
}
