import { useState } from 'preact/hooks';
import type { AdminUnit } from '../api';
import { t } from '../i18n';
import { fold } from '../format';
import { Link } from '../router';

/** Filterable list of units (provinces or communes); the filter ignores diacritics. */
export function UnitList({
  id,
  units,
  countKey,
}: {
  id: string;
  units: AdminUnit[];
  countKey: 'units.provinceCount' | 'units.communeCount';
}) {
  const [filter, setFilter] = useState('');
  const f = fold(filter);
  const shown = f ? units.filter((u) => fold(u.name).includes(f) || u.code.includes(f)) : units;
  return (
    <>
      <div class="field filter-field">
        <label for={`${id}-filter`}>{t('units.filterLabel')}</label>
        <input
          id={`${id}-filter`}
          type="search"
          autocomplete="off"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      </div>
      <p class="result-count" role="status" aria-live="polite" data-testid={`${id}-count`}>
        {f ? t('units.filtered', { shown: shown.length, n: units.length }) : t(countKey, { n: units.length })}
      </p>
      {shown.length === 0 ? (
        <p class="empty">{t('units.noMatch')}</p>
      ) : (
        <ul class="unit-grid" data-testid={`${id}-list`}>
          {shown.map((u) => (
            <li key={u.code}>
              <Link href={`/units/${encodeURIComponent(u.code)}`}>
                <span class="unit-name">{u.name}</span>
                <span class="unit-meta">
                  <span class={`kind kind-${fold(u.kind).replace(/\s+/g, '-')}`}>{u.kind}</span>
                  <span class="unit-code">{u.code}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
