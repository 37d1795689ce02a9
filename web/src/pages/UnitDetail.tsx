import { api, ApiError } from '../api';
import { t, tOr } from '../i18n';
import { Link } from '../router';
import { ErrorBox, Loading, useAsync, useTitle } from '../ui';
import { UnitList } from './unitList';

export function UnitDetail({ code }: { code: string }) {
  const unit = useAsync((signal) => api.unit(code, signal), [code]);
  const u = unit.data;
  const isProvince = !!u && !u.parent_code;
  // Communes for a province; the parent's name for a commune.
  const communes = useAsync(
    (signal) => (isProvince ? api.communes(code, signal) : Promise.resolve(null)),
    [code, isProvince],
  );
  const parent = useAsync(
    (signal) => (u?.parent_code ? api.unit(u.parent_code, signal) : Promise.resolve(null)),
    [u?.parent_code],
  );
  useTitle(u ? u.name : t('units.title'));

  return (
    <article class="detail">
      <p class="breadcrumb">
        <Link href="/units">← {t('units.backToList')}</Link>
        {u?.parent_code && (
          <>
            {' · '}
            <Link href={`/units/${encodeURIComponent(u.parent_code)}`}>{parent.data?.name ?? u.parent_code}</Link>
          </>
        )}
      </p>
      {unit.loading && <Loading />}
      {!unit.loading && unit.error !== undefined && (
        <>
          <h1>{t('units.title')}</h1>
          {unit.error instanceof ApiError && unit.error.status === 404 ? (
            <div class="alert alert-error" role="alert">
              {t('units.notFound', { code })}
            </div>
          ) : (
            <ErrorBox error={unit.error} onRetry={unit.reload} />
          )}
        </>
      )}
      {u && !unit.loading && (
        <>
          <h1 data-testid="unit-name">{u.name}</h1>
          <dl class="fields compact">
            <div class="row">
              <dt>{t('units.kind')}</dt>
              <dd>
                <span class="kind">{u.kind}</span>
              </dd>
            </div>
            <div class="row">
              <dt>{t('units.code')}</dt>
              <dd>{u.code}</dd>
            </div>
            {u.parent_code && (
              <div class="row">
                <dt>{t('units.parent')}</dt>
                <dd>
                  <Link href={`/units/${encodeURIComponent(u.parent_code)}`}>{parent.data?.name ?? u.parent_code}</Link>
                </dd>
              </div>
            )}
          </dl>
          <section aria-labelledby="pred-title">
            <h2 id="pred-title">{t('units.predecessors')}</h2>
            {u.predecessors?.length ? (
              <ul class="pred-list" data-testid="predecessors">
                {u.predecessors.map((p) => (
                  <li key={p.code + p.name}>
                    {p.name} <span class="muted">({tOr(`units.type.${p.type}`, p.type)})</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">{t('units.noPredecessors')}</p>
            )}
          </section>
          {isProvince && (
            <section aria-labelledby="communes-title">
              <h2 id="communes-title">{t('units.communes')}</h2>
              {communes.loading && <Loading />}
              {communes.error !== undefined && <ErrorBox error={communes.error} onRetry={communes.reload} />}
              {communes.data && (
                <UnitList id="communes" units={communes.data.items} countKey="units.communeCount" />
              )}
            </section>
          )}
        </>
      )}
    </article>
  );
}
