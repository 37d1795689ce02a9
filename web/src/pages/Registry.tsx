import { useState } from 'preact/hooks';
import { api, ApiError, type Person, type PersonBrief } from '../api';
import { t } from '../i18n';
import { dateText } from '../format';
import { isOfficial } from '../dossier';
import { useUser } from '../session';
import { errorMessage, Field, Row, useTitle } from '../ui';
import { NeedLogin, NoPermission } from './DossierNew';

function Brief({ p }: { p: PersonBrief | null }) {
  if (!p) return <>{t('registry.none')}</>;
  return (
    <>
      {p.full_name ?? p.personal_id} ({p.personal_id}
      {p.birth_date ? `, ${dateText(p.birth_date)}` : ''}){p.status === 'deceased' ? ` — ${t('registry.deceased')}` : ''}
    </>
  );
}

/** A person's record with relations and household: shared by the official's look-up and "my data". */
export function PersonCard({ p }: { p: Person }) {
  return (
    <section class="panel" aria-labelledby="person-name" data-testid="person">
      <h2 id="person-name">{p.full_name}</h2>
      <dl class="fields">
        <Row label={t('registry.personalId')}>{p.personal_id}</Row>
        <Row label={t('registry.birthDate')}>{dateText(p.birth_date)}</Row>
        <Row label={t('registry.sex')}>{p.sex === 'female' ? t('registry.female') : t('registry.male')}</Row>
        <Row label={t('registry.birthPlace')}>{p.birth_place}</Row>
        <Row label={t('registry.permanent')}>
          {[p.permanent_address, p.permanent_unit].filter(Boolean).join(', ') || t('registry.none')}
        </Row>
        {p.temporary_unit && (
          <Row label={t('registry.temporary')}>{[p.temporary_address, p.temporary_unit].filter(Boolean).join(', ')}</Row>
        )}
        <Row label={t('registry.status')}>
          {p.status === 'deceased' ? `${t('registry.deceased')} ${p.died_on ? dateText(p.died_on) : ''}` : t('registry.living')}
        </Row>
        <Row label={t('registry.father')}>
          <Brief p={p.father} />
        </Row>
        <Row label={t('registry.mother')}>
          <Brief p={p.mother} />
        </Row>
        <Row label={t('registry.spouse')} testid="person-spouse">
          <Brief p={p.spouse} />
        </Row>
        <Row label={t('registry.children')} testid="person-children">
          {p.children.length === 0 ? (
            t('registry.none')
          ) : (
            <ul class="plain">
              {p.children.map((c) => (
                <li key={c.personal_id}>
                  <Brief p={c} />
                </li>
              ))}
            </ul>
          )}
        </Row>
        {p.household && (
          <Row label={t('registry.household')} testid="person-household">
            <ul class="plain">
              {p.household.members.map((m) => (
                <li key={m.personal_id}>
                  <Brief p={m} /> — {t(`registry.role.${m.household_role ?? 'other'}` as never) || m.household_role}
                </li>
              ))}
            </ul>
          </Row>
        )}
      </dl>
    </section>
  );
}

/** Officials: look a person up in the population registry, stating why (the read is shown to them). */
export function Registry() {
  useTitle(t('registry.title'));
  const user = useUser();
  const [id, setId] = useState('');
  const [purpose, setPurpose] = useState('');
  const [dossier, setDossier] = useState('');
  const [person, setPerson] = useState<Person | null>(null);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!user) return <NeedLogin />;
  if (!isOfficial(user) || !['desk_officer', 'specialist', 'leader'].includes(user.role)) {
    return <NoPermission message={t('registry.officialsOnly')} />;
  }
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!/^\d{12}$/.test(id.trim())) return setError({ message: t('registry.badId'), field: 'personal_id' });
    if (purpose.trim().length < 5) return setError({ message: t('registry.needPurpose'), field: 'purpose' });
    setBusy(true);
    setError(null);
    setPerson(null);
    try {
      setPerson(await api.registryPerson(id.trim(), purpose.trim(), dossier.trim()));
    } catch (err) {
      const notFound = err instanceof ApiError && err.status === 404;
      setError({ message: notFound ? t('registry.notFound') : errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow-wide">
      <h1>{t('registry.title')}</h1>
      <p class="lead">{t('registry.lead')}</p>
      <form class="form grid-form panel" onSubmit={onSubmit} noValidate role="search">
        <Field id="registry-id" label={t('registry.personalId')}>
          <input
            id="registry-id"
            inputMode="numeric"
            maxLength={12}
            autocomplete="off"
            required
            value={id}
            aria-invalid={error?.field === 'personal_id' ? true : undefined}
            aria-describedby="registry-error"
            onInput={(e) => setId(e.currentTarget.value)}
          />
        </Field>
        <Field id="registry-purpose" label={t('registry.purpose')} hint={t('registry.purposeHint')}>
          <input
            id="registry-purpose"
            required
            maxLength={500}
            value={purpose}
            aria-invalid={error?.field === 'purpose' ? true : undefined}
            aria-describedby="registry-purpose-hint registry-error"
            onInput={(e) => setPurpose(e.currentTarget.value)}
          />
        </Field>
        <Field id="registry-dossier" label={t('registry.dossier')}>
          <input id="registry-dossier" maxLength={64} value={dossier} onInput={(e) => setDossier(e.currentTarget.value)} />
        </Field>
        <div id="registry-error" class="form-error full" role="alert">
          {error?.message}
        </div>
        <div class="full">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('registry.submit')}
          </button>
        </div>
      </form>
      <div aria-live="polite">{person && <PersonCard p={person} />}</div>
    </section>
  );
}
