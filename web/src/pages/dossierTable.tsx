import type { DossierSummary } from '../api';
import { t } from '../i18n';
import { statusClass, statusLabel } from '../dossier';
import { dateTimeText } from '../format';
import { Link } from '../router';
import { DueFlags } from './DossierDetail';

/** Dossier list: a table on wide screens, stacked cards on phones (see .table in styles.css). */
export function DossierTable({ items, official }: { items: DossierSummary[]; official: boolean }) {
  return (
    <table class="table dossier-table" data-testid="dossier-table">
      <thead>
        <tr>
          <th scope="col">{t('q.code')}</th>
          <th scope="col">{t('q.procedure')}</th>
          {official && <th scope="col">{t('q.applicant')}</th>}
          <th scope="col">{t('q.status')}</th>
          <th scope="col">{t('q.submitted')}</th>
          <th scope="col">{t('q.due')}</th>
          {official && <th scope="col">{t('q.assignee')}</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.code} data-code={d.code} class={d.overdue ? 'row-overdue' : undefined}>
            <td data-label={t('q.code')}>
              <Link href={`/dossiers/${encodeURIComponent(d.code)}`} class="dossier-code">
                {d.code}
              </Link>
            </td>
            <td data-label={t('q.procedure')}>{d.procedure.name}</td>
            {official && <td data-label={t('q.applicant')}>{d.applicant_name}</td>}
            <td data-label={t('q.status')} class="col-status">
              <span class={statusClass(d.status)}>{statusLabel(d.status, d.status_label)}</span>
            </td>
            <td data-label={t('q.submitted')}>{dateTimeText(d.submitted_at)}</td>
            <td data-label={t('q.due')} class="col-due">
              {d.due_at ? dateTimeText(d.due_at) : '—'} <DueFlags d={d} />
            </td>
            {official && <td data-label={t('q.assignee')}>{d.assignee ?? '—'}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
