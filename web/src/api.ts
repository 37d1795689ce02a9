// Typed client for the ThangLong HTTP API (/api/v1). Errors are RFC 9457 problem+json.
import { authToken } from './session';

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

export type Role =
  | 'citizen'
  | 'organisation'
  | 'desk_officer'
  | 'specialist'
  | 'leader'
  | 'agency_admin'
  | 'city_admin'
  | 'operator';

export const ROLES: Role[] = [
  'citizen',
  'organisation',
  'desk_officer',
  'specialist',
  'leader',
  'agency_admin',
  'city_admin',
  'operator',
];

export interface User {
  username: string;
  full_name: string;
  role: Role | string;
  agency_code: string | null;
  personal_id?: string | null;
  phone?: string | null;
  tax_code?: string | null;
}

export interface ManagedUser extends User {
  disabled: boolean;
}

export interface LoginResponse {
  token: string;
  expires_at: string;
  user: User;
}

export type Channel = 'in_person' | 'online' | 'postal';
export type DurationUnit = 'working_day' | 'day' | 'hour' | 'month';

export interface Processing {
  channel: Channel | string;
  duration: number | null;
  unit: DurationUnit | string | null;
}

/** The contract leaves the element type open: a number (VND), or a small object/string. */
export type Fee = number | string | { amount?: number | null; description?: string; note?: string; label?: string };

export interface ProcedureSummary {
  code: string;
  name: string;
  sector: string;
  levels: string[];
  competent_agency?: string;
  processing: Processing[];
  fees_vnd: Fee[];
}

/** The JSON Schema subset of procedure forms (src/modules/procedures/form_schema.h). */
export interface JsonSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array';
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: (string | number | boolean)[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  examples?: unknown[];
}

export interface Procedure extends ProcedureSummary {
  applicants?: string[] | string | null;
  decision?: string | { number?: string; title?: string; url?: string } | null;
  result?: string | string[] | null;
  source_url?: string | null;
  version?: string | number | null;
  effective_from?: string | null;
  /** Names of the documents a dossier holds, when the procedure lists them. */
  components?: string[] | null;
  /** The form of the submission {applicant, form, components}: the procedure's own or the default. */
  form_schema?: JsonSchema | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total?: number;
}

export interface Sector {
  name: string;
  count: number;
}

export interface AdminUnit {
  code: string;
  name: string;
  kind: string;
  level: string;
  parent_code: string | null;
}

export interface Predecessor {
  code: string;
  name: string;
  type: 'full' | 'partial' | string;
}

export interface AdminUnitDetail extends AdminUnit {
  predecessors: Predecessor[];
}

export interface ResolveResponse {
  query: string;
  matches: { unit: AdminUnit; via: Predecessor | null }[];
}

// One-stop shop (một cửa) dossiers.
export type DossierChannel = 'online' | 'desk' | 'postal';
export type Delivery = 'desk' | 'online' | 'post';

export interface Applicant {
  full_name: string;
  personal_id?: string;
  tax_code?: string;
  phone?: string;
  email?: string;
  address?: string;
}

export interface SubmitDossier {
  procedure_code: string;
  unit_code?: string;
  channel?: DossierChannel;
  delivery: Delivery;
  applicant: Applicant;
  form: Record<string, unknown>;
  components: string[];
  /** Once-only: components satisfied by documents of the applicant's own wallet instead of an upload. */
  wallet_documents?: WalletReference[];
}

export interface WalletReference {
  component: string;
  document_id: string;
}

/** A wallet document a dossier refers to, as recorded at submission. */
export interface DossierWalletDocument extends WalletReference {
  type: string;
  title: string;
  number: string;
  issuer_agency: string;
  issued_on: string;
  url: string;
}

/** The same, verified now (GET /dossiers/{code}/wallet-documents/{id}). */
export interface ReferencedDocument extends DossierWalletDocument {
  components: string[];
  has_file: boolean;
  file_url?: string;
  verification: { status: Verification['status']; reason: string; checked_at: string };
}

/** A wallet document offered for a component (GET /me/wallet/offers). */
export interface WalletOffer {
  id: string;
  type: string;
  document_type: string;
  document_label_vi: string;
  document_label_en: string;
  title: string;
  number: string;
  issuer_agency: string;
  issued_on: string;
  valid_until: string | null;
}

export interface ComponentOffers {
  component: string;
  document_types: { type: string; label_vi: string; label_en: string }[];
  documents: WalletOffer[];
}

export interface TimelineEvent {
  seq: number;
  action: string;
  from_status: string | null;
  to_status: string;
  to_label: string;
  actor: string;
  actor_role: string;
  agency: string | null;
  at: string;
  note: string;
  detail?: Record<string, unknown> | null;
}

export interface Dossier {
  code: string;
  status: string;
  status_label: string;
  version: number;
  open?: boolean;
  channel: DossierChannel | string;
  delivery: Delivery | string;
  procedure: { code: string; name: string };
  unit_code?: string | null;
  receiving_agency: string;
  competent_agency?: string;
  handling_agency: string;
  applicant: {
    full_name: string;
    id_number?: string | null;
    personal_id?: string | null;
    tax_code?: string | null;
    phone?: string | null;
    email?: string | null;
    address?: string | null;
    account?: boolean;
  };
  form: Record<string, unknown> | null;
  components: string[] | null;
  assignee: string | null;
  working_days?: number | null;
  submitted_at: string | null;
  received_at: string | null;
  due_at: string | null;
  finished_at?: string | null;
  returned_at?: string | null;
  on_time?: boolean | null;
  overdue: boolean;
  due_soon: boolean;
  paused: boolean;
  apologies?: number;
  rating?: number | null;
  timeline: TimelineEvent[];
  allowed_actions: string[];
  wallet_documents?: DossierWalletDocument[];
}

export interface DossierSummary {
  code: string;
  procedure: { code: string; name: string };
  status: string;
  status_label: string;
  channel: string;
  applicant_name: string;
  handling_agency: string;
  assignee: string | null;
  submitted_at: string | null;
  due_at: string | null;
  overdue: boolean;
  due_soon: boolean;
  paused: boolean;
  version: number;
}

export interface DossierCounts {
  by_status: Record<string, number>;
  overdue: number;
}

export interface ActionBody {
  version: number;
  note?: string;
  assignee?: string;
  agency?: string;
  new_due_date?: string;
}

export interface DossierRules {
  version?: string;
  states: Record<string, { label_vi: string; open: boolean }>;
  actions: Record<string, { from: string[]; to: string | null; roles: string[]; needs: string; note_required: boolean }>;
}

export interface PublicDossier {
  code: string;
  procedure: string;
  status: string;
  status_label: string;
  submitted_at: string | null;
  received_at: string | null;
  due_at: string | null;
  finished_at?: string | null;
  returned_at?: string | null;
  overdue: boolean;
}

export interface Notification {
  id: number;
  kind: string;
  title: string;
  body: string;
  dossier_code: string | null;
  created_at: string;
  read: boolean;
}

export interface Agency {
  code: string;
  name: string;
  kind: string;
  parent_code: string | null;
  unit_code: string | null;
}

const BASE = '/api/v1';

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = authToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(BASE + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: 'same-origin',
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const problem: Problem =
      data && typeof data === 'object' ? (data as Problem) : { status: res.status, title: res.statusText };
    throw new ApiError(res.status, problem);
  }
  return data as T;
}

// ---- Population registry, data access log, document wallet ----

export interface PersonBrief {
  personal_id: string;
  full_name: string;
  birth_date: string;
  sex: 'male' | 'female';
  status: 'living' | 'deceased';
  household_role?: string | null;
  in_registry?: boolean;
}

export interface Person extends PersonBrief {
  birth_place: string;
  permanent_unit: string | null;
  permanent_address: string | null;
  temporary_unit: string | null;
  temporary_address: string | null;
  household_id: string | null;
  died_on: string | null;
  father: PersonBrief | null;
  mother: PersonBrief | null;
  spouse: PersonBrief | null;
  children: PersonBrief[];
  household: { id: string; members: PersonBrief[] } | null;
}

export interface DataAccess {
  seq: number;
  at: string;
  agency: string;
  official: string;
  service: string;
  /** Whose data was read: a person's registry record or an organisation's (by tax code). */
  subject?: 'person' | 'organisation';
  fields: string;
  purpose: string;
  legal_basis: string;
  dossier_code: string;
}

export interface WalletDocument {
  id: string;
  type: string;
  number: string;
  title: string;
  issuer_agency: string;
  issued_on: string;
  valid_until: string | null;
  source: string;
  state: 'issued' | 'certified' | 'unverified';
  has_file: boolean;
  revoked: boolean;
}

export interface Verification {
  status: 'valid' | 'tampered' | 'revoked' | 'unverified' | 'unknown';
  reason: string;
  document_id?: string;
  title?: string;
  number?: string;
  issuer_agency?: string;
  issued_on?: string;
  key_id?: string;
}

// ---- Data exchange (services, grants) and API keys: city admins ----

export interface DataService {
  code: string;
  provider_agency: string;
  title: string;
  fields: string[];
}

export interface Grant {
  id: number;
  consumer_agency: string;
  service: string;
  fields: string[];
  legal_basis: string;
  purpose: string;
  expires_at: string;
  created_by: string;
  revoked_at: string | null;
  status: 'active' | 'revoked' | 'expired';
  active: boolean;
}

export interface NewGrant {
  consumer_agency: string;
  service: string;
  fields: string[];
  legal_basis: string;
  purpose: string;
  expires_on: string;
}

export const API_KEY_SCOPES = ['registry.read', 'ngsild.read', 'ngsild.write'] as const;

export interface ApiKey {
  id: number;
  name: string;
  agency_code: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  /** Only in the answer to its creation. */
  secret?: string;
}

export interface ShareLink {
  token: string;
  url: string;
  expires_at: string;
}

const enc = encodeURIComponent;

/** A file behind the API (authorised like any call), for saving it. */
export async function fetchFile(path: string): Promise<Blob> {
  const headers: Record<string, string> = {};
  const token = authToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { headers, credentials: 'same-origin' });
  if (!res.ok) {
    const problem = (await res.json().catch(() => null)) as Problem | null;
    throw new ApiError(res.status, problem ?? { status: res.status, title: res.statusText });
  }
  return res.blob();
}

function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  login: (username: string, password: string) =>
    request<LoginResponse>('POST', '/auth/login', { username, password }),
  logout: () => request<void>('POST', '/auth/logout'),
  me: () => request<User>('GET', '/me'),

  procedures: (
    p: { q?: string; sector?: string; level?: string; limit?: number; cursor?: string | null },
    signal?: AbortSignal,
  ) => request<Page<ProcedureSummary>>('GET', '/procedures' + qs(p), undefined, signal),
  sectors: () => request<{ items: Sector[] }>('GET', '/procedures/sectors'),
  procedure: (code: string, signal?: AbortSignal) =>
    request<Procedure>('GET', `/procedures/${enc(code)}`, undefined, signal),

  provinces: (signal?: AbortSignal) => request<{ items: AdminUnit[] }>('GET', '/admin-units', undefined, signal),
  communes: (parent: string, signal?: AbortSignal) =>
    request<{ items: AdminUnit[] }>('GET', '/admin-units' + qs({ parent }), undefined, signal),
  unit: (code: string, signal?: AbortSignal) =>
    request<AdminUnitDetail>('GET', `/admin-units/${enc(code)}`, undefined, signal),
  resolve: (name: string, signal?: AbortSignal) =>
    request<ResolveResponse>('GET', '/admin-units/resolve' + qs({ name }), undefined, signal),

  agencies: (p: { unit?: string; kind?: string } = {}, signal?: AbortSignal) =>
    request<{ items: Agency[] }>('GET', '/agencies' + qs(p), undefined, signal),
  agency: (code: string, signal?: AbortSignal) => request<Agency>('GET', `/agencies/${enc(code)}`, undefined, signal),

  submitDossier: (body: SubmitDossier) => request<Dossier>('POST', '/dossiers', body),
  dossier: (code: string, signal?: AbortSignal) =>
    request<Dossier>('GET', `/dossiers/${enc(code)}`, undefined, signal),
  act: (code: string, action: string, body: ActionBody) =>
    request<Dossier>('POST', `/dossiers/${enc(code)}/actions/${enc(action)}`, body),
  rate: (code: string, rating: number, comment: string) =>
    request<Dossier>('POST', `/dossiers/${enc(code)}/rating`, { rating, comment }),
  queue: (
    p: { scope?: string; status?: string; overdue?: string; applicant?: string; cursor?: string | null; limit?: number },
    signal?: AbortSignal,
  ) => request<Page<DossierSummary>>('GET', '/dossiers' + qs(p), undefined, signal),
  counts: (scope: string, signal?: AbortSignal) =>
    request<DossierCounts>('GET', '/dossiers/counts' + qs({ scope }), undefined, signal),
  myDossiers: (cursor?: string | null, signal?: AbortSignal) =>
    request<Page<DossierSummary>>('GET', '/me/dossiers' + qs({ cursor, limit: 20 }), undefined, signal),
  dossierRules: (signal?: AbortSignal) => request<DossierRules>('GET', '/dossier-rules', undefined, signal),
  publicDossier: (code: string, check: string, signal?: AbortSignal) =>
    request<PublicDossier>('GET', `/public/dossiers/${enc(code)}` + qs({ check }), undefined, signal),
  notifications: (unread?: boolean, signal?: AbortSignal) =>
    request<{ items: Notification[] }>('GET', '/me/notifications' + qs({ unread: unread ? 'true' : undefined }), undefined, signal),
  markRead: (id: number) => request<void>('POST', `/me/notifications/${enc(String(id))}/read`),

  users: () => request<{ items: ManagedUser[] }>('GET', '/users'),
  createUser: (u: { username: string; password: string; role: string; full_name: string; agency_code?: string }) =>
    request<ManagedUser>('POST', '/users', u),
  disableUser: (username: string) => request<unknown>('POST', `/users/${enc(username)}/disable`),

  registryPerson: (id: string, purpose: string, dossier: string, signal?: AbortSignal) =>
    request<Person>('GET', `/registry/people/${enc(id)}` + qs({ purpose, dossier }), undefined, signal),
  myRegistry: (signal?: AbortSignal) => request<Person>('GET', '/me/registry', undefined, signal),
  myDataAccess: (signal?: AbortSignal) =>
    request<{ items: DataAccess[]; next_before?: number }>('GET', '/me/data-access-log', undefined, signal),
  reportRead: (seq: number, reason: string) =>
    request<{ id: number; status: string }>('POST', `/me/data-access-log/${enc(String(seq))}/report`, { reason }),
  myWallet: (signal?: AbortSignal) => request<{ items: WalletDocument[] }>('GET', '/me/wallet', undefined, signal),
  share: (id: string, hours: number) => request<ShareLink>('POST', `/me/wallet/${enc(id)}/share`, { hours }),
  verifyDocument: (documentId: string) => request<Verification>('POST', '/documents/verify', { document_id: documentId }),
  walletOffers: (procedure: string, signal?: AbortSignal) =>
    request<{ procedure: string; components: ComponentOffers[] }>('GET', '/me/wallet/offers' + qs({ procedure }), undefined, signal),
  referencedDocument: (code: string, documentId: string) =>
    request<ReferencedDocument>('GET', `/dossiers/${enc(code)}/wallet-documents/${enc(documentId)}`),
  dataServices: (signal?: AbortSignal) => request<{ items: DataService[] }>('GET', '/exchange/services', undefined, signal),
  grants: (signal?: AbortSignal) => request<{ items: Grant[] }>('GET', '/exchange/grants', undefined, signal),
  createGrant: (g: NewGrant) => request<Grant>('POST', '/exchange/grants', g),
  revokeGrant: (id: number) => request<void>('POST', `/exchange/grants/${enc(String(id))}/revoke`),
  apiKeys: (signal?: AbortSignal) => request<{ items: ApiKey[] }>('GET', '/admin/api-keys', undefined, signal),
  createApiKey: (k: { name: string; agency_code: string; scopes: string[] }) =>
    request<ApiKey>('POST', '/admin/api-keys', k),
  revokeApiKey: (id: number) => request<void>('POST', `/admin/api-keys/${enc(String(id))}/revoke`),
};
