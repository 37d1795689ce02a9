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

export interface Procedure extends ProcedureSummary {
  applicants?: string[] | string | null;
  decision?: string | { number?: string; title?: string; url?: string } | null;
  result?: string | string[] | null;
  source_url?: string | null;
  version?: string | number | null;
  effective_from?: string | null;
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

const enc = encodeURIComponent;

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

  users: () => request<{ items: ManagedUser[] }>('GET', '/users'),
  createUser: (u: { username: string; password: string; role: string; full_name: string; agency_code?: string }) =>
    request<ManagedUser>('POST', '/users', u),
  disableUser: (username: string) => request<unknown>('POST', `/users/${enc(username)}/disable`),
};
