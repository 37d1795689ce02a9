import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, type Dossier } from '../api';
import { t } from '../i18n';
import { agencyText, channelLabel, deliveryLabel, isApplicant, useAgency, workingDaysText } from '../dossier';
import { dateTimeText } from '../format';
import { Link } from '../router';
import { useUser } from '../session';
import { ErrorBox, Loading, Row, useAsync, useTitle } from '../ui';
import { NeedLogin } from './DossierNew';

/** The print button: a plain listener (no inline handler attributes under the CSP). */
function PrintButton() {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current;
    const onClick = () => window.print();
    el?.addEventListener('click', onClick);
    return () => el?.removeEventListener('click', onClick);
  }, []);
  return (
    <button type="button" class="btn btn-primary" ref={ref} data-testid="print">
      {t('receipt.print')}
    </button>
  );
}

function Receipt({ d }: { d: Dossier }) {
  const user = useUser();
  const receiving = useAgency(d.receiving_agency);
  const handling = useAgency(d.handling_agency);
  const a = d.applicant;
  const idNumber = a.id_number ?? a.personal_id;
  const contact = [a.phone, a.email].filter(Boolean).join(' · ');
  const fresh = isApplicant(user) && d.status === 'submitted';
  return (
    <>
      {fresh && (
        <p class="alert alert-info no-print" role="status">
          {t('receipt.submittedOk')}
        </p>
      )}
      <article class="receipt" aria-labelledby="receipt-title">
        <header class="receipt-head">
          <p class="receipt-agency">{receiving?.name ?? d.receiving_agency}</p>
          <p class="receipt-motto">
            <strong>{t('receipt.nation')}</strong>
            <br />
            {t('receipt.motto')}
          </p>
        </header>
        <h1 id="receipt-title">{t('receipt.title')}</h1>
        <p class="receipt-code">
          {t('receipt.code')}: <strong data-testid="receipt-code">{d.code}</strong>
        </p>
        <dl class="fields">
          <Row label={t('receipt.procedure')} testid="receipt-procedure">
            {d.procedure.name} ({d.procedure.code})
          </Row>
          <Row label={t('receipt.applicant')} testid="receipt-applicant">
            {a.full_name}
            {idNumber ? ` — ${t('dossier.personalId')}: ${idNumber}` : ''}
          </Row>
          {contact && <Row label={t('receipt.contact')}>{contact}</Row>}
          {a.address && <Row label={t('dnew.address')}>{a.address}</Row>}
          <Row label={t('receipt.receivingAgency')}>{agencyText(d.receiving_agency, receiving)}</Row>
          <Row label={t('receipt.handlingAgency')}>{agencyText(d.handling_agency, handling)}</Row>
          <Row label={t('receipt.channel')}>{channelLabel(d.channel)}</Row>
          <Row label={t('receipt.delivery')}>{deliveryLabel(d.delivery)}</Row>
          <Row label={t('receipt.components')}>
            {d.components && d.components.length ? (
              <ol>
                {d.components.map((c, i) => (
                  <li key={i}>{c}</li>
                ))}
              </ol>
            ) : (
              t('common.none')
            )}
          </Row>
          <Row label={t('receipt.processing')}>{workingDaysText(d.working_days)}</Row>
          <Row label={t('receipt.submittedAt')} testid="receipt-submitted">
            {dateTimeText(d.submitted_at)}
          </Row>
          <Row label={t('receipt.receivedAt')} testid="receipt-received">
            {d.received_at ? dateTimeText(d.received_at) : t('receipt.notReceived')}
          </Row>
          <Row label={t('receipt.dueAt')} testid="receipt-due">
            {d.due_at ? <strong>{dateTimeText(d.due_at)}</strong> : t('receipt.notYet')}
          </Row>
        </dl>
        {!d.due_at && (
          <p class="alert alert-info" data-testid="receipt-pending-due">
            {t('receipt.pendingDue')}
          </p>
        )}
        <p class="muted">{t('common.timeNote')}</p>
        <p class="muted">{t('receipt.trackHint')}</p>
      </article>
      <p class="actions-row no-print">
        <PrintButton />
        <Link class="btn btn-secondary" href={`/dossiers/${encodeURIComponent(d.code)}`}>
          {t('receipt.details')}
        </Link>
      </p>
    </>
  );
}

export function DossierReceipt({ code }: { code: string }) {
  useTitle(t('receipt.title'));
  const user = useUser();
  const res = useAsync((signal) => (user ? api.dossier(code, signal) : Promise.resolve(undefined)), [code, user?.username]);
  if (!user) {
    return (
      <>
        <h1>{t('receipt.title')}</h1>
        <NeedLogin />
      </>
    );
  }
  return (
    <section class="receipt-page">
      {res.loading && !res.data && <Loading />}
      {res.error !== undefined && (
        <>
          <h1>{t('receipt.title')}</h1>
          {res.error instanceof ApiError && res.error.status === 404 ? (
            <div class="alert alert-error" role="alert">
              {t('dossier.notFound', { code })}
            </div>
          ) : (
            <ErrorBox error={res.error} onRetry={res.reload} />
          )}
        </>
      )}
      {res.data && <Receipt d={res.data} />}
    </section>
  );
}
