// The application form shared by online submission (citizens, organisations) and desk reception.
// The procedure's form schema (`form_schema`) shapes it: the applicant's required fields, the
// declaration's own fields (schemaForm.tsx; a free key/value list when the schema has none) and the
// components to tick when the procedure lists them. Once-only: a component that a document of the
// citizen's own wallet can stand for offers "Dùng giấy tờ trong kho dữ liệu" with those documents
// (GET /api/v1/me/wallet/offers); the dossier then refers to the document instead of an upload.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  type Applicant,
  type ComponentOffers,
  type Delivery,
  type Dossier,
  type Procedure,
  type SubmitDossier,
  type WalletOffer,
  type WalletReference,
} from '../api';
import { t, type MsgKey } from '../i18n';
import { deliveryLabel } from '../dossier';
import { dateText } from '../format';
import { errorMessage, Field, useAsync } from '../ui';
import { build, fieldId, hasFields, initialValues, SchemaFields, titleAt, type Errors, type JsonSchema, type Values } from './schemaForm';

const DELIVERIES: Delivery[] = ['desk', 'online', 'post'];
/** Hà Nội: the commune picker lists its wards and communes. */
const CITY = '01';

/** API field (problem+json `field`) → [input id, label]. */
const FIELDS: Record<string, [string, MsgKey]> = {
  unit_code: ['df-unit', 'dnew.unit'],
  delivery: ['df-delivery-desk', 'dnew.delivery'],
  'applicant.full_name': ['df-name', 'dnew.fullName'],
  'applicant.personal_id': ['df-pid', 'dnew.personalId'],
  'applicant.tax_code': ['df-tax', 'dnew.taxCode'],
  'applicant.phone': ['df-phone', 'dnew.phone'],
  'applicant.email': ['df-email', 'dnew.email'],
  'applicant.address': ['df-address', 'dnew.address'],
  form: ['df-key-0', 'dnew.formTitle'],
  components: ['df-comp-new', 'dnew.components'],
};

interface KV {
  id: number;
  key: string;
  value: string;
}

interface Component {
  id: number;
  name: string;
  checked: boolean;
}

type ApplicantForm = Required<Applicant>;

function emptyApplicant(a: Applicant): ApplicantForm {
  return {
    full_name: a.full_name ?? '',
    personal_id: a.personal_id ?? '',
    tax_code: a.tax_code ?? '',
    phone: a.phone ?? '',
    email: a.email ?? '',
    address: a.address ?? '',
  };
}

/** How a wallet document reads in the picker: its title, issuer and date. */
function offerLabel(d: WalletOffer): string {
  return `${d.title} — ${t('once.issued', { agency: d.issuer_agency, date: dateText(d.issued_on) })}`;
}

/** Where a problem's `field` is on the page: [input id, label]. `walletInputs`: the picker of each
 * wallet reference sent, in order. */
function locate(
  field: string,
  formSchema: JsonSchema | undefined,
  enumComponents: boolean,
  walletInputs: string[] = [],
): [string, string] | undefined {
  const wallet = /^wallet_documents(?:\.(\d+))?/.exec(field);
  if (wallet) {
    const id = walletInputs[wallet[1] ? Number(wallet[1]) : 0];
    return id ? [id, t('once.fromWallet')] : undefined;
  }
  if (FIELDS[field] && !(field === 'components' && enumComponents)) return [FIELDS[field][0], t(FIELDS[field][1])];
  if (field.startsWith('form.') && formSchema) {
    const path = field.slice('form.'.length);
    return [fieldId(path), titleAt(formSchema, path)];
  }
  if (field === 'components' || field.startsWith('components.')) {
    return [enumComponents ? 'df-comp-0' : 'df-comp-new', t('dnew.components')];
  }
  return undefined;
}

export function DossierForm({
  procedure,
  applicant: initial,
  defaultUnit,
  defaultDelivery,
  extra,
  prefill,
  offers,
  submitLabel,
  onSubmitted,
}: {
  procedure: Procedure;
  applicant: Applicant;
  defaultUnit?: string;
  defaultDelivery: Delivery;
  /** Extra request fields (the desk's channel). */
  extra?: Partial<SubmitDossier>;
  /** Form values known from the population registry; they fill fields that are still empty. */
  prefill?: Values;
  /** Once-only: per component, the applicant's wallet documents that can stand for it. */
  offers?: ComponentOffers[];
  submitLabel: string;
  onSubmitted: (d: Dossier) => void;
}) {
  const schema = procedure.form_schema ?? undefined;
  const formSchema = hasFields(schema?.properties?.form) ? schema?.properties?.form : undefined;
  const applicantRequired = new Set(schema?.properties?.applicant?.required ?? ['full_name']);
  const componentNames = (schema?.properties?.components?.items?.enum ?? []).map(String);
  const levels = procedure.levels ?? [];
  const needsUnit = levels.includes('commune');
  const unitRequired = needsUnit && !levels.includes('province');
  const communes = useAsync(
    (signal) => (needsUnit ? api.communes(CITY, signal) : Promise.resolve({ items: [] })),
    [needsUnit],
  ).data?.items;
  const [unit, setUnit] = useState(defaultUnit ?? '');
  useEffect(() => {
    if (defaultUnit && !unit) setUnit(defaultUnit);
  }, [defaultUnit]);
  const [delivery, setDelivery] = useState<Delivery>(defaultDelivery);
  const [app, setApp] = useState<ApplicantForm>(emptyApplicant(initial));
  useEffect(() => {
    // The profile (GET /me) may arrive after the first render: fill only what is still empty.
    setApp((cur) => {
      const next = { ...cur };
      for (const [k, v] of Object.entries(emptyApplicant(initial)) as [keyof ApplicantForm, string][]) {
        if (!next[k] && v) next[k] = v;
      }
      return next;
    });
  }, [initial.full_name, initial.personal_id, initial.phone, initial.email, initial.tax_code, initial.address]);

  const nextId = useRef(1);
  const [kvs, setKvs] = useState<KV[]>([{ id: 0, key: '', value: '' }]);
  const [components, setComponents] = useState<Component[]>([]);
  const [newComponent, setNewComponent] = useState('');
  const [values, setValues] = useState<Values>(() => ({ ...initialValues(formSchema), ...prefill }));
  useEffect(() => {
    // The registry's answer may arrive after the first render: fill only what is still empty.
    if (!prefill) return;
    setValues((cur) => {
      const next = { ...cur };
      for (const [k, v] of Object.entries(prefill)) if (next[k] === undefined || next[k] === '') next[k] = v;
      return next;
    });
  }, [JSON.stringify(prefill ?? {})]);
  const [fieldErrors, setFieldErrors] = useState<Errors>({});
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  // Once-only: component -> the wallet document chosen for it.
  const [fromWallet, setFromWallet] = useState<Record<string, string>>({});
  const walletInputs = useRef<string[]>([]);
  const offered = (name: string): WalletOffer[] => offers?.find((o) => o.component === name)?.documents ?? [];
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // Move focus to the offending input so keyboard and screen-reader users land on it.
    const id = error?.field
      ? locate(error.field, formSchema, componentNames.length > 0, walletInputs.current)?.[0]
      : undefined;
    if (id) document.getElementById(id)?.focus();
  }, [error]);

  const setValue = (path: string, v: string | boolean) => {
    setValues((cur) => ({ ...cur, [path]: v }));
    if (fieldErrors[path]) setFieldErrors((cur) => ({ ...cur, [path]: '' }));
  };

  const invalid = (field: string) => (error?.field === field ? true : undefined);
  const described = (field: string, hint?: string) =>
    [hint, error?.field === field ? 'df-error' : undefined].filter(Boolean).join(' ') || undefined;
  const setA = (k: keyof ApplicantForm) => (e: { currentTarget: HTMLInputElement }) =>
    setApp({ ...app, [k]: e.currentTarget.value });

  const addComponent = () => {
    const name = newComponent.trim().normalize('NFC');
    if (!name) return;
    setComponents([...components, { id: nextId.current++, name, checked: true }]);
    setNewComponent('');
  };

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!app.full_name.trim()) {
      setError({ message: t('dnew.nameRequired'), field: 'applicant.full_name' });
      return;
    }
    for (const k of ['personal_id', 'tax_code', 'phone', 'email', 'address'] as const) {
      if (applicantRequired.has(k) && !app[k].trim()) {
        const field = `applicant.${k}`;
        setError({ message: t('dnew.errorIn', { field: t(FIELDS[field][1]), detail: t('form.required') }), field });
        return;
      }
    }
    let formValue: Record<string, unknown> = {};
    if (formSchema) {
      const built = build(formSchema, values);
      const paths = Object.keys(built.errors);
      setFieldErrors(built.errors);
      if (paths.length) {
        const first = paths[0];
        const message = t('dnew.errorIn', { field: titleAt(formSchema, first), detail: built.errors[first] });
        setError({
          message: paths.length > 1 ? t('form.andMore', { message, n: paths.length - 1 }) : message,
          field: `form.${first}`,
        });
        return;
      }
      formValue = built.value;
    }
    const applicant: Applicant = { full_name: app.full_name.trim().normalize('NFC') };
    for (const k of ['personal_id', 'tax_code', 'phone', 'email', 'address'] as const) {
      const v = app[k].trim().normalize('NFC');
      if (v) applicant[k] = v;
    }
    const form: Record<string, unknown> = formValue;
    if (!formSchema) {
      for (const kv of kvs) {
        const k = kv.key.trim().normalize('NFC');
        if (k) form[k] = kv.value.trim().normalize('NFC');
      }
    }
    const walletDocuments: WalletReference[] = [];
    walletInputs.current = [];
    componentNames.forEach((n, i) => {
      if (!fromWallet[n]) return;
      walletDocuments.push({ component: n, document_id: fromWallet[n] });
      walletInputs.current.push(`df-wallet-doc-${i}`);
    });
    const body: SubmitDossier = {
      procedure_code: procedure.code,
      delivery,
      applicant,
      form,
      components: componentNames.length
        ? componentNames.filter((n) => ticked.has(n) || fromWallet[n])
        : components.filter((c) => c.checked).map((c) => c.name),
      ...(walletDocuments.length ? { wallet_documents: walletDocuments } : {}),
      ...(needsUnit && unit ? { unit_code: unit } : {}),
      ...extra,
    };
    setBusy(true);
    setError(null);
    try {
      onSubmitted(await api.submitDossier(body));
    } catch (err) {
      const field = err instanceof ApiError ? err.problem.field : undefined;
      const label = field
        ? (locate(field, formSchema, componentNames.length > 0, walletInputs.current)?.[1] ?? '')
        : '';
      const message = label ? t('dnew.errorIn', { field: label, detail: errorMessage(err) }) : errorMessage(err);
      // The server names a declaration field: mark it where it is.
      if (field?.startsWith('form.') && formSchema) setFieldErrors({ [field.slice('form.'.length)]: errorMessage(err) });
      setError({ message, field });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form dossier-form" onSubmit={onSubmit} noValidate>
      <fieldset class="panel">
        <legend>{t('dnew.where')}</legend>
        {needsUnit && (
          <Field id="df-unit" label={t('dnew.unit')} hint={unitRequired ? t('dnew.unitHint') : t('dnew.unitOptional')}>
            <select
              id="df-unit"
              name="unit_code"
              value={unit}
              required={unitRequired}
              aria-invalid={invalid('unit_code')}
              aria-describedby={described('unit_code', 'df-unit-hint')}
              onChange={(e) => setUnit(e.currentTarget.value)}
            >
              <option value="">{t('dnew.unitChoose')}</option>
              {unit && !communes?.some((c) => c.code === unit) && <option value={unit}>{unit}</option>}
              {communes?.map((c) => (
                <option key={c.code} value={c.code}>
                  {c.name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <fieldset class="choices" aria-invalid={invalid('delivery')}>
          <legend>{t('dnew.delivery')}</legend>
          {DELIVERIES.map((d) => (
            <label key={d} class="choice">
              <input
                type="radio"
                id={`df-delivery-${d}`}
                name="delivery"
                value={d}
                checked={delivery === d}
                onChange={() => setDelivery(d)}
              />
              <span>{deliveryLabel(d)}</span>
            </label>
          ))}
        </fieldset>
      </fieldset>

      <fieldset class="panel grid-form">
        <legend>{t('dnew.applicant')}</legend>
        <Field id="df-name" label={t('dnew.fullName')}>
          <input
            id="df-name"
            name="full_name"
            autocomplete="name"
            required
            value={app.full_name}
            onInput={setA('full_name')}
            aria-invalid={invalid('applicant.full_name')}
            aria-describedby={described('applicant.full_name')}
          />
        </Field>
        <Field id="df-pid" label={t('dnew.personalId')} hint={t('dnew.personalIdHint')}>
          <input
            id="df-pid"
            required={applicantRequired.has('personal_id')}
            name="personal_id"
            inputMode="numeric"
            autocomplete="off"
            value={app.personal_id}
            onInput={setA('personal_id')}
            aria-invalid={invalid('applicant.personal_id')}
            aria-describedby={described('applicant.personal_id', 'df-pid-hint')}
          />
        </Field>
        <Field id="df-phone" label={t('dnew.phone')} hint={t('dnew.phoneHint')}>
          <input
            id="df-phone"
            required={applicantRequired.has('phone')}
            name="phone"
            type="tel"
            autocomplete="tel"
            value={app.phone}
            onInput={setA('phone')}
            aria-invalid={invalid('applicant.phone')}
            aria-describedby={described('applicant.phone', 'df-phone-hint')}
          />
        </Field>
        <Field id="df-email" label={t('dnew.email')}>
          <input
            id="df-email"
            required={applicantRequired.has('email')}
            name="email"
            type="email"
            autocomplete="email"
            value={app.email}
            onInput={setA('email')}
            aria-invalid={invalid('applicant.email')}
            aria-describedby={described('applicant.email')}
          />
        </Field>
        <Field id="df-tax" label={t('dnew.taxCode')}>
          <input
            id="df-tax"
            required={applicantRequired.has('tax_code')}
            name="tax_code"
            inputMode="numeric"
            autocomplete="off"
            value={app.tax_code}
            onInput={setA('tax_code')}
            aria-invalid={invalid('applicant.tax_code')}
            aria-describedby={described('applicant.tax_code')}
          />
        </Field>
        <Field id="df-address" label={t('dnew.address')}>
          <input
            id="df-address"
            required={applicantRequired.has('address')}
            name="address"
            autocomplete="street-address"
            value={app.address}
            onInput={setA('address')}
            aria-invalid={invalid('applicant.address')}
            aria-describedby={described('applicant.address')}
          />
        </Field>
      </fieldset>

      {formSchema ? (
        <fieldset class="panel" data-testid="schema-form">
          <legend>{formSchema.title ?? t('dnew.formTitle')}</legend>
          {formSchema.description && <p class="hint">{formSchema.description}</p>}
          <p class="hint">{t('form.requiredHint')}</p>
          <SchemaFields schema={formSchema} values={values} errors={fieldErrors} onChange={setValue} />
        </fieldset>
      ) : (
        <fieldset class="panel">
          <legend>{t('dnew.formTitle')}</legend>
          <p class="hint">{t('dnew.formHint')}</p>
          <ul class="kv-list">
            {kvs.map((kv, i) => (
              <li key={kv.id} class="kv-row">
                <div class="field">
                  <label for={`df-key-${i}`}>{t('dnew.fieldKey', { n: i + 1 })}</label>
                  <input
                    id={`df-key-${i}`}
                    autocomplete="off"
                    value={kv.key}
                    aria-invalid={i === 0 ? invalid('form') : undefined}
                    onInput={(e) => setKvs(kvs.map((x) => (x.id === kv.id ? { ...x, key: e.currentTarget.value } : x)))}
                  />
                </div>
                <div class="field">
                  <label for={`df-value-${i}`}>{t('dnew.fieldValue', { n: i + 1 })}</label>
                  <input
                    id={`df-value-${i}`}
                    autocomplete="off"
                    value={kv.value}
                    onInput={(e) => setKvs(kvs.map((x) => (x.id === kv.id ? { ...x, value: e.currentTarget.value } : x)))}
                  />
                </div>
                <button
                  type="button"
                  class="btn btn-danger btn-small"
                  aria-label={t('dnew.removeField', { n: i + 1 })}
                  onClick={() => setKvs(kvs.filter((x) => x.id !== kv.id))}
                >
                  {t('dnew.remove')}
                </button>
              </li>
            ))}
          </ul>
          <button
            type="button"
            class="btn btn-secondary btn-small"
            onClick={() => setKvs([...kvs, { id: nextId.current++, key: '', value: '' }])}
          >
            {t('dnew.addField')}
          </button>
        </fieldset>
      )}

      {componentNames.length > 0 ? (
        <fieldset class="panel">
          <legend>{schema?.properties?.components?.title ?? t('dnew.components')}</legend>
          <p class="hint" id="df-comp-hint">
            {t('form.componentsHint')}
          </p>
          <ul class="checklist" data-testid="components">
            {componentNames.map((n, i) => {
              const docs = offered(n);
              const chosen = fromWallet[n];
              return (
                <li key={n} data-testid={docs.length ? 'component-with-offer' : undefined}>
                  <label class="choice">
                    <input
                      type="checkbox"
                      id={`df-comp-${i}`}
                      checked={ticked.has(n) || !!chosen}
                      disabled={!!chosen}
                      aria-describedby={i === 0 ? described('components', 'df-comp-hint') : undefined}
                      onChange={(e) => {
                        const next = new Set(ticked);
                        if (e.currentTarget.checked) next.add(n);
                        else next.delete(n);
                        setTicked(next);
                      }}
                    />
                    <span>{n}</span>
                  </label>
                  {docs.length > 0 && (
                    <div class="wallet-offer">
                      <label class="choice">
                        <input
                          type="checkbox"
                          id={`df-wallet-${i}`}
                          checked={!!chosen}
                          aria-describedby={`df-wallet-hint-${i}`}
                          onChange={(e) => {
                            const use = e.currentTarget.checked;
                            setFromWallet((cur) => {
                              const next = { ...cur };
                              if (use) next[n] = docs[0].id;
                              else delete next[n];
                              return next;
                            });
                          }}
                        />
                        <span>{t('once.useWallet')}</span>
                      </label>
                      <p class="hint" id={`df-wallet-hint-${i}`}>
                        {t('once.hint')}
                      </p>
                      {chosen && (
                        <Field id={`df-wallet-doc-${i}`} label={t('once.document')}>
                          <select
                            id={`df-wallet-doc-${i}`}
                            value={chosen}
                            aria-invalid={error?.field?.startsWith('wallet_documents') ? true : undefined}
                            aria-describedby={error?.field?.startsWith('wallet_documents') ? 'df-error' : undefined}
                            onChange={(e) => {
                              const id = e.currentTarget.value;
                              setFromWallet((cur) => ({ ...cur, [n]: id }));
                            }}
                          >
                            {docs.map((d) => (
                              <option key={d.id} value={d.id}>
                                {offerLabel(d)}
                              </option>
                            ))}
                          </select>
                        </Field>
                      )}
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        </fieldset>
      ) : (
        <fieldset class="panel">
          <legend>{t('dnew.components')}</legend>
          <p class="hint" id="df-comp-hint">
            {t('dnew.componentsHint')}
          </p>
          {components.length === 0 ? (
            <p class="empty">{t('dnew.noComponents')}</p>
          ) : (
            <ul class="checklist" data-testid="components">
              {components.map((c) => (
                <li key={c.id}>
                  <label class="choice">
                    <input
                      type="checkbox"
                      checked={c.checked}
                      onChange={(e) =>
                        setComponents(
                          components.map((x) => (x.id === c.id ? { ...x, checked: e.currentTarget.checked } : x)),
                        )
                      }
                    />
                    <span>{c.name}</span>
                  </label>
                </li>
              ))}
            </ul>
          )}
          <div class="field">
            <label for="df-comp-new">{t('dnew.componentNew')}</label>
            <div class="search-row">
              <input
                id="df-comp-new"
                autocomplete="off"
                value={newComponent}
                aria-describedby={described('components', 'df-comp-hint')}
                aria-invalid={invalid('components')}
                onInput={(e) => setNewComponent(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addComponent();
                  }
                }}
              />
              <button type="button" class="btn btn-secondary" onClick={addComponent}>
                {t('dnew.addComponent')}
              </button>
            </div>
          </div>
        </fieldset>
      )}

      <div id="df-error" class="form-error" role="alert" aria-live="assertive">
        {error?.message}
      </div>
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {busy ? t('dnew.submitting') : submitLabel}
      </button>
    </form>
  );
}
