import type { ComponentChildren } from 'preact';
import { api, ApiError, type Procedure } from '../api';
import { t, tOr } from '../i18n';
import { channelName, dateText, durationText, feeText, levelsText } from '../format';
import { Link, withQuery } from '../router';
import { useUser } from '../session';
import { isApplicant } from '../dossier';
import { ErrorBox, Loading, useAsync, useTitle } from '../ui';

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function List({ items }: { items: string[] }) {
  if (!items.length) return <>{t('common.none')}</>;
  if (items.length === 1) return <>{items[0]}</>;
  return (
    <ul>
      {items.map((s, i) => (
        <li key={i}>{s}</li>
      ))}
    </ul>
  );
}

function asList(v: string[] | string | null | undefined, translate = false): string[] {
  const list = v == null ? [] : Array.isArray(v) ? v : [v];
  return translate ? list.map((s) => tOr(`role.${s}`, s)) : list;
}

function Decision({ d }: { d: Procedure['decision'] }) {
  if (!d) return <>{t('common.unknown')}</>;
  if (typeof d === 'string') return <>{d}</>;
  const text = [d.number, d.title].filter(Boolean).join(' — ') || t('common.unknown');
  return d.url && /^https?:\/\//.test(d.url) ? (
    <a href={d.url} rel="noopener noreferrer">
      {text}
    </a>
  ) : (
    <>{text}</>
  );
}

/** "Nộp hồ sơ trực tuyến" for citizens and organisations; anonymous visitors are asked to log in first. */
function ApplyButton({ code }: { code: string }) {
  const user = useUser();
  const target = withQuery('/dossiers/new', { procedure: code });
  if (isApplicant(user)) {
    return (
      <p class="apply">
        <Link class="btn btn-primary" href={target} data-testid="apply-online">
          {t('dnew.button')}
        </Link>
      </p>
    );
  }
  if (!user) {
    return (
      <p class="apply">
        <Link class="btn btn-secondary" href={withQuery('/login', { next: target })}>
          {t('dnew.loginToApply')}
        </Link>
      </p>
    );
  }
  return null;
}

export function ProcedureDetail({ code }: { code: string }) {
  const { data: p, error, loading, reload } = useAsync((signal) => api.procedure(code, signal), [code]);
  useTitle(p ? p.name : t('proc.title'));

  return (
    <article class="detail">
      <p class="breadcrumb">
        <Link href="/procedures">← {t('proc.backToList')}</Link>
      </p>
      {loading && <Loading />}
      {!loading && error instanceof ApiError && error.status === 404 ? (
        <>
          <h1>{t('proc.title')}</h1>
          <div class="alert alert-error" role="alert">
            {t('proc.notFound', { code })}
          </div>
        </>
      ) : (
        !loading && error !== undefined && (
          <>
            <h1>{t('proc.title')}</h1>
            <ErrorBox error={error} onRetry={reload} />
          </>
        )
      )}
      {p && !loading && (
        <>
          <h1 data-testid="procedure-name">{p.name}</h1>
          <p class="code-badge" data-testid="procedure-code">
            {t('proc.code')}: <strong>{p.code}</strong>
          </p>
          <ApplyButton code={p.code} />
          <dl class="fields">
            <Row label={t('proc.sector')}>{p.sector}</Row>
            <Row label={t('proc.levels')}>{levelsText(p.levels)}</Row>
            <Row label={t('proc.applicants')}>
              <List items={asList(p.applicants, true)} />
            </Row>
            <Row label={t('proc.agency')}>{p.competent_agency || t('common.unknown')}</Row>
            <Row label={t('proc.decision')}>
              <Decision d={p.decision} />
            </Row>
            <Row label={t('proc.time')}>
              {p.processing?.length ? (
                <table class="mini">
                  <tbody>
                    {p.processing.map((x, i) => (
                      <tr key={i}>
                        <th scope="row">{channelName(x.channel)}</th>
                        <td>{durationText(x)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                t('common.unknown')
              )}
            </Row>
            <Row label={t('proc.fees')}>
              <List items={(p.fees_vnd ?? []).map(feeText)} />
            </Row>
            <Row label={t('proc.result')}>
              <List items={asList(p.result)} />
            </Row>
            {p.version != null && p.version !== '' && <Row label={t('proc.version')}>{String(p.version)}</Row>}
            {p.effective_from && <Row label={t('proc.effective')}>{dateText(p.effective_from)}</Row>}
            <Row label={t('proc.source')}>
              {p.source_url && /^https?:\/\//.test(p.source_url) ? (
                <a href={p.source_url} rel="noopener noreferrer">
                  {t('proc.sourceLink')}
                </a>
              ) : (
                t('common.unknown')
              )}
            </Row>
          </dl>
        </>
      )}
    </article>
  );
}
