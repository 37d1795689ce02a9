import { api, ApiError, type Applicant } from '../api';
import { t } from '../i18n';
import { isApplicant } from '../dossier';
import { Link, navigate, useLocation, withQuery } from '../router';
import { useUser } from '../session';
import { ErrorBox, Loading, useAsync, useTitle } from '../ui';
import { DossierForm } from './dossierForm';
import { registryPrefill } from './schemaForm';

/** "Log in" prompt that comes back to the current page afterwards. */
export function NeedLogin() {
  const loc = useLocation();
  const here = loc.path + (loc.search.toString() ? `?${loc.search.toString()}` : '');
  return (
    <div class="alert alert-info" role="alert">
      <p>{t('common.needLogin')}</p>
      <p>
        <Link href={withQuery('/login', { next: here })}>{t('nav.login')}</Link>
      </p>
    </div>
  );
}

export function NoPermission({ message }: { message: string }) {
  return (
    <div class="alert alert-error" role="alert">
      {message}
    </div>
  );
}

function OnlineForm({ code }: { code: string }) {
  const proc = useAsync((signal) => api.procedure(code, signal), [code]);
  // The account's own details prefill the applicant.
  const me = useAsync((_signal) => api.me(), []);
  // Once-only: what the population registry holds about the citizen fills the form too.
  const reg = useAsync(
    (signal) => (me.data?.role === 'citizen' ? api.myRegistry(signal).catch(() => null) : Promise.resolve(null)),
    [me.data?.role],
  );
  // Once-only: documents of the citizen's wallet that can stand for the procedure's components.
  const offers = useAsync(
    (signal) =>
      me.data?.role === 'citizen' ? api.walletOffers(code, signal).catch(() => null) : Promise.resolve(null),
    [code, me.data?.role],
  );
  const applicant: Applicant = {
    full_name: reg.data?.full_name ?? me.data?.full_name ?? '',
    personal_id: me.data?.personal_id ?? '',
    phone: me.data?.phone ?? '',
    tax_code: me.data?.tax_code ?? '',
    address: reg.data?.permanent_address ?? '',
  };
  if (proc.loading && !proc.data) return <Loading />;
  if (proc.error !== undefined) {
    return proc.error instanceof ApiError && proc.error.status === 404 ? (
      <div class="alert alert-error" role="alert">
        {t('proc.notFound', { code })}
      </div>
    ) : (
      <ErrorBox error={proc.error} onRetry={proc.reload} />
    );
  }
  const p = proc.data!;
  return (
    <>
      <p class="lead" data-testid="apply-procedure">
        {t('dnew.procedure')}: <Link href={`/procedures/${encodeURIComponent(p.code)}`}>{p.name}</Link>{' '}
        <span class="muted">({p.code})</span>
      </p>
      <DossierForm
        procedure={p}
        applicant={applicant}
        prefill={registryPrefill(p.form_schema?.properties?.form, reg.data ?? null)}
        offers={offers.data?.components}
        defaultDelivery="online"
        submitLabel={t('dnew.submit')}
        onSubmitted={(d) => navigate(`/dossiers/${encodeURIComponent(d.code)}/receipt`)}
      />
    </>
  );
}

export function DossierNew() {
  useTitle(t('dnew.title'));
  const user = useUser();
  const code = useLocation().search.get('procedure') ?? '';
  return (
    <section>
      <h1>{t('dnew.title')}</h1>
      {!user ? (
        <NeedLogin />
      ) : !isApplicant(user) ? (
        <NoPermission message={t('dnew.onlyApplicants')} />
      ) : !code ? (
        <div class="alert alert-info" role="alert">
          <p>{t('dnew.noProcedure')}</p>
          <p>
            <Link href="/procedures">{t('home.procedures')}</Link>
          </p>
        </div>
      ) : (
        <OnlineForm key={code} code={code} />
      )}
    </section>
  );
}
