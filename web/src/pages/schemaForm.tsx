// A procedure's form, rendered from its JSON Schema (`form_schema` of GET /api/v1/procedures/{code};
// the subset the server accepts, src/modules/procedures/form_schema.h): text, date and e-mail
// inputs, numbers, check boxes, choices (enum), nested objects as fieldsets, required marks. The
// titles come from the schema (Vietnamese). build() turns the inputs into the `form` object and
// checks required fields, numbers, lengths and patterns on the client; the server checks again.
import type { JsonSchema } from '../api';
import { t } from '../i18n';
import './schemaForm.css';

export type { JsonSchema };

/** Input values by dotted path relative to the form ("child.date_of_birth"). */
export type Values = Record<string, string | boolean>;
/** Messages by dotted path. */
export type Errors = Record<string, string>;

const join = (prefix: string, key: string) => (prefix ? `${prefix}.${key}` : key);
const isObject = (s: JsonSchema) => s.type === 'object' || (!s.type && !!s.properties);

/** Whether the schema describes fields to render (otherwise the free key/value form is used). */
export function hasFields(s: JsonSchema | undefined): s is JsonSchema {
  return !!s && !!s.properties && Object.keys(s.properties).length > 0;
}

/** The input id of the field at `path`. */
export function fieldId(path: string): string {
  return `df-f-${path.split('.').map((p) => p.replace(/[^A-Za-z0-9_]/g, '_')).join('--')}`;
}

/** The schema node at `path`, if any. */
export function nodeAt(s: JsonSchema | undefined, path: string): JsonSchema | undefined {
  let node = s;
  for (const seg of path.split('.')) node = node?.properties?.[seg];
  return node;
}

/** The label of the field at `path`: its title, or its name. */
export function titleAt(s: JsonSchema | undefined, path: string): string {
  return nodeAt(s, path)?.title ?? path.split('.').pop() ?? path;
}

/** Initial values: each field's `default`; check boxes unticked. */
export function initialValues(s: JsonSchema | undefined, prefix = '', out: Values = {}): Values {
  for (const [k, p] of Object.entries(s?.properties ?? {})) {
    const path = join(prefix, k);
    if (isObject(p)) initialValues(p, path, out);
    else if (p.type === 'boolean') out[path] = p.default === true;
    else if (p.default !== undefined && p.default !== null) out[path] = String(p.default);
  }
  return out;
}

/** Whether anything under `path` has been filled in. */
function filled(s: JsonSchema, values: Values, path: string): boolean {
  if (isObject(s)) return Object.entries(s.properties ?? {}).some(([k, p]) => filled(p, values, join(path, k)));
  const v = values[path];
  return typeof v === 'boolean' ? v : !!v && v.trim() !== '';
}

function leaf(p: JsonSchema, raw: string | boolean | undefined): { value?: unknown; error?: string } {
  if (p.type === 'boolean') return { value: raw === true };
  const text = typeof raw === 'string' ? raw.trim().normalize('NFC') : '';
  if (!text) return {};
  if (p.enum) {
    const option = p.enum.find((o) => String(o) === text);
    return option === undefined ? { error: t('form.invalidChoice') } : { value: option };
  }
  if (p.type === 'number' || p.type === 'integer') {
    const n = Number(text.replace(',', '.'));
    if (!Number.isFinite(n)) return { error: t('form.number') };
    if (p.type === 'integer' && !Number.isInteger(n)) return { error: t('form.integer') };
    if (p.minimum !== undefined && n < p.minimum) return { error: t('form.min', { n: p.minimum }) };
    if (p.maximum !== undefined && n > p.maximum) return { error: t('form.max', { n: p.maximum }) };
    return { value: n };
  }
  const length = [...text].length;
  if (p.maxLength !== undefined && length > p.maxLength) return { error: t('form.maxLength', { n: p.maxLength }) };
  if (p.minLength !== undefined && length < p.minLength) return { error: t('form.minLength', { n: p.minLength }) };
  if (p.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return { error: t('form.date') };
  if (p.pattern) {
    try {
      if (!new RegExp(p.pattern, 'u').test(text)) return { error: t('form.pattern') };
    } catch {
      // A pattern the browser cannot read is left to the server.
    }
  }
  return { value: text };
}

function buildObject(
  s: JsonSchema,
  values: Values,
  prefix: string,
  present: boolean,
  errors: Errors,
): Record<string, unknown> | undefined {
  if (!present && !filled(s, values, prefix)) return undefined;
  const required = new Set(s.required ?? []);
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const path = join(prefix, k);
    if (isObject(p)) {
      const v = buildObject(p, values, path, required.has(k), errors);
      if (v !== undefined) out[k] = v;
      continue;
    }
    const { value, error } = leaf(p, values[path]);
    if (error) errors[path] = error;
    else if (value !== undefined) out[k] = value;
    else if (required.has(k)) errors[path] = t('form.required');
  }
  return out;
}

/** The `form` object from the inputs, and the client-side errors by path (in the form's order). */
export function build(s: JsonSchema, values: Values): { value: Record<string, unknown>; errors: Errors } {
  const errors: Errors = {};
  const value = buildObject(s, values, '', true, errors) ?? {};
  return { value, errors };
}

function Label({ id, text, required }: { id: string; text: string; required: boolean }) {
  return (
    <label for={id}>
      {text}
      {required && (
        <span class="req" aria-hidden="true">
          {' *'}
        </span>
      )}
    </label>
  );
}

function Input({
  path,
  p,
  required,
  value,
  error,
  onChange,
}: {
  path: string;
  p: JsonSchema;
  required: boolean;
  value: string | boolean | undefined;
  error?: string;
  onChange: (path: string, v: string | boolean) => void;
}) {
  const id = fieldId(path);
  const label = p.title ?? path.split('.').pop() ?? path;
  const hintId = p.description ? `${id}-hint` : undefined;
  const errId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: path,
    required,
    'aria-invalid': error ? (true as const) : undefined,
    'aria-describedby': describedBy,
  };
  const text = typeof value === 'string' ? value : '';
  let control;
  if (p.type === 'boolean') {
    control = (
      <label class="choice">
        <input
          type="checkbox"
          {...common}
          checked={value === true}
          onChange={(e) => onChange(path, e.currentTarget.checked)}
        />
        <span>{label}</span>
      </label>
    );
  } else if (p.enum) {
    control = (
      <select {...common} value={text} onChange={(e) => onChange(path, e.currentTarget.value)}>
        <option value="">{t('form.chooseOption')}</option>
        {p.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if ((p.maxLength ?? 0) > 500) {
    control = <textarea {...common} rows={3} value={text} onInput={(e) => onChange(path, e.currentTarget.value)} />;
  } else {
    const numeric = p.type === 'number' || p.type === 'integer';
    control = (
      <input
        {...common}
        type={p.format === 'date' ? 'date' : p.format === 'email' ? 'email' : 'text'}
        inputMode={p.type === 'integer' ? 'numeric' : numeric ? 'decimal' : undefined}
        autocomplete="off"
        value={text}
        onInput={(e) => onChange(path, e.currentTarget.value)}
      />
    );
  }
  return (
    <div class={p.type === 'boolean' || (p.maxLength ?? 0) > 500 ? 'field full' : 'field'}>
      {p.type !== 'boolean' && <Label id={id} text={label} required={required} />}
      {control}
      {p.description && (
        <p class="hint" id={hintId}>
          {p.description}
        </p>
      )}
      {error && (
        <p class="field-error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** The fields of an object schema; nested objects become fieldsets. */
export function SchemaFields({
  schema,
  values,
  errors,
  onChange,
  prefix = '',
}: {
  schema: JsonSchema;
  values: Values;
  errors: Errors;
  onChange: (path: string, v: string | boolean) => void;
  prefix?: string;
}) {
  const required = new Set(schema.required ?? []);
  return (
    <div class="grid-form schema-fields">
      {Object.entries(schema.properties ?? {}).map(([k, p]) => {
        const path = join(prefix, k);
        if (isObject(p)) {
          return (
            <fieldset key={path} class="subform full" data-path={path}>
              <legend>
                {p.title ?? k}
                {required.has(k) && (
                  <span class="req" aria-hidden="true">
                    {' *'}
                  </span>
                )}
              </legend>
              {p.description && <p class="hint">{p.description}</p>}
              <SchemaFields schema={p} values={values} errors={errors} onChange={onChange} prefix={path} />
            </fieldset>
          );
        }
        return (
          <Input
            key={path}
            path={path}
            p={p}
            required={required.has(k)}
            value={values[path]}
            error={errors[path]}
            onChange={onChange}
          />
        );
      })}
    </div>
  );
}

/**
 * Values the population registry already knows, for the fields of a procedure's form (once-only: the
 * citizen does not retype what the state holds). The person is the logged-in citizen's record: an
 * object named father/mother/husband/wife/person with a full_name gets the citizen or the spouse by
 * sex; relationship ("Cha"/"Mẹ") follows the citizen's sex. Only paths the schema has are returned.
 */
export function registryPrefill(
  s: JsonSchema | undefined,
  me: { full_name: string; personal_id: string; birth_date: string; sex: string; permanent_address: string | null; spouse: { full_name?: string; personal_id: string; birth_date?: string; sex?: string } | null } | null,
): Values {
  const out: Values = {};
  if (!s?.properties || !me) return out;
  const male = me.sex === 'male';
  const spouse = me.spouse && me.spouse.full_name ? me.spouse : null;
  const who: Record<string, typeof spouse | typeof me | null> = {
    father: male ? me : spouse,
    mother: male ? spouse : me,
    husband: male ? me : spouse,
    wife: male ? spouse : me,
    person: me,
  };
  for (const [key, p] of Object.entries(s.properties)) {
    const person = who[key];
    if (!person || !p.properties?.full_name) continue;
    const set = (field: string, v: string | undefined | null) => {
      if (v && p.properties?.[field]) out[`${key}.${field}`] = v;
    };
    set('full_name', person.full_name);
    set('personal_id', person.personal_id);
    set('date_of_birth', person.birth_date);
    set('year_of_birth', person.birth_date ? person.birth_date.slice(0, 4) : undefined);
    set('sex', person.sex === 'female' ? 'Nữ' : person.sex === 'male' ? 'Nam' : undefined);
    if (person === me) set('residence', me.permanent_address);
  }
  const rel = s.properties.relationship;
  if (rel?.enum?.includes('Cha') && rel.enum.includes('Mẹ')) out.relationship = male ? 'Cha' : 'Mẹ';
  return out;
}
