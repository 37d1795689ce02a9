import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { t } from '../i18n';
import { dateTimeText } from '../format';
import { useUser } from '../session';
import { ErrorBox, errorMessage, Loading, useAsync, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';
import { PersonCard } from './Registry';

/**
 * Who read my data (agency, official, purpose, time), with a report of a read thought unlawful.
 * Citizens also see their registry record; organisation accounts see the reads of their
 * organisation's record (by its tax code).
 */
export function MyData() {
  const user = useUser();
  const citizen = user?.role === 'citizen';
  const organisation = user?.role === 'organisation';
  useTitle(t(organisation ? 'mydata.orgTitle' : 'mydata.title'));
  const record = useAsync((signal) => (citizen ? api.myRegistry(signal) : Promise.resolve(null)), [user?.username]);
  const log = useAsync(
    (signal) => (citizen || organisation ? api.myDataAccess(signal) : Promise.resolve(null)),
    [user?.username],
  );
  const [reporting, setReporting] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [reported, setReported] = useState<Set<number>>(new Set());
  const [reportError, setReportError] = useState('');
  if (!user) return <NeedLogin />;
  if (!citizen && !organisation) return <NoPermission message={t('mydata.applicantsOnly')} />;
  const sendReport = async (e: Event, seq: number) => {
    e.preventDefault();
    setReportError('');
    try {
      await api.reportRead(seq, reason.trim());
      setReported((s) => new Set(s).add(seq));
      setReporting(null);
      setReason('');
    } catch (err) {
      setReportError(errorMessage(err));
    }
  };
  const missing = record.error instanceof ApiError && record.error.status === 404;
  return (
    <section>
      <h1>{t(organisation ? 'mydata.orgTitle' : 'mydata.title')}</h1>
      <p class="lead">
        {organisation ? t('mydata.orgLead', { taxCode: user.tax_code ?? '—' }) : t('mydata.lead')}
      </p>
      {citizen && (
        <>
          <h2>{t('mydata.record')}</h2>
          {record.loading && !record.data ? (
            <Loading />
          ) : missing ? (
            <p class="empty">{t('mydata.noRecord')}</p>
          ) : record.error !== undefined ? (
            <ErrorBox error={record.error} onRetry={record.reload} />
          ) : (
            record.data && <PersonCard p={record.data} />
          )}
        </>
      )}
      <h2 id="access-title">{t(organisation ? 'mydata.orgAccessLog' : 'mydata.accessLog')}</h2>
      <p>{t(organisation ? 'mydata.orgAccessLead' : 'mydata.accessLead')}</p>
      {log.loading && !log.data ? (
        <Loading />
      ) : log.error !== undefined ? (
        <ErrorBox error={log.error} onRetry={log.reload} />
      ) : (log.data?.items.length ?? 0) === 0 ? (
        <p class="empty" data-testid="access-empty">
          {t(organisation ? 'mydata.orgNoAccess' : 'mydata.noAccess')}
        </p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-labelledby="access-title" data-testid="access-log">
            <thead>
              <tr>
                <th scope="col">{t('mydata.when')}</th>
                <th scope="col">{t('mydata.agency')}</th>
                <th scope="col">{t('mydata.official')}</th>
                <th scope="col">{t('mydata.purpose')}</th>
                <th scope="col">{t('mydata.dossier')}</th>
                <th scope="col">{t('mydata.report')}</th>
              </tr>
            </thead>
            <tbody>
              {log.data!.items.map((a) => (
                <tr key={a.seq}>
                  <td>
                    <time dateTime={a.at}>{dateTimeText(a.at)}</time>
                  </td>
                  <td>{a.agency}</td>
                  <td>{a.official}</td>
                  <td>
                    {a.purpose}
                    {a.fields.startsWith('representative_of:') && (
                      <span class="muted as-representative" data-testid="as-representative">
                        {t('mydata.asRepresentative', { tax: a.fields.slice('representative_of:'.length) })}
                      </span>
                    )}
                  </td>
                  <td>{a.dossier_code || '—'}</td>
                  <td>
                    {reported.has(a.seq) ? (
                      <span role="status">{t('mydata.reported')}</span>
                    ) : reporting === a.seq ? (
                      <form class="form" onSubmit={(e) => void sendReport(e, a.seq)}>
                        <label for={`report-${a.seq}`}>{t('mydata.reportReason')}</label>
                        <input
                          id={`report-${a.seq}`}
                          value={reason}
                          maxLength={2000}
                          aria-describedby={`report-error-${a.seq}`}
                          onInput={(e) => setReason(e.currentTarget.value)}
                        />
                        <div id={`report-error-${a.seq}`} class="form-error" role="alert">
                          {reportError}
                        </div>
                        <button type="submit" class="btn btn-primary btn-small">
                          {t('mydata.reportSend')}
                        </button>
                      </form>
                    ) : (
                      <button type="button" class="btn btn-secondary btn-small" onClick={() => setReporting(a.seq)}>
                        {t('mydata.reportButton')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
