// The console's client of the HTTP API (docs/api.md): the session cookie
// authenticates, and every write carries the session's CSRF token.
import { reached, unreachable } from './connection.svelte';

export interface Session {
  user: string;
  tenant?: string;
  role: string;
  csrf_token: string;
  expires: string;
  mfa_enrolled: boolean;
  mfa_enrol_required?: boolean;
}

export interface Entity {
  type: string;
  value: string;
}

export interface SLA {
  acknowledge_by?: string;
  resolve_by?: string;
  acknowledge_breached: boolean;
  resolve_breached: boolean;
}

export interface Alert {
  id: number;
  tenant: string;
  producer: string;
  rule_id: string;
  title: string;
  author: string;
  references: string[] | null;
  level: string;
  risk: number;
  status: string;
  resolution?: string;
  assignee: string;
  note?: string;
  count: number;
  event_time: string;
  first_seen: string;
  last_seen: string;
  created: string;
  updated: string;
  acknowledged?: string;
  resolved?: string;
  escalated?: string;
  incident: number;
  entities: Entity[] | null;
  host: string;
  user: string;
  tags: string[] | null;
  fields: Record<string, string> | null;
  sla: SLA;
  event_ref: string;
  evidence?: string[];
  also_seen?: number;
  // history is every analyst's change, oldest first: in the alert's own
  // answer (GET /api/v1/alerts/{id}), not in lists or the live stream.
  history?: Step[];
}

// Step is one analyst's change of an alert: who (an actor, as actors.svelte
// reads it), when, the verb, and the triage fields it left.
export interface Step {
  time: string;
  actor: string;
  verb: string;
  status: string;
  resolution: string;
  assignee: string;
  note: string;
}

export interface Provider {
  name: string;
  display_name: string;
  login_url: string;
}

export interface Tenant {
  id: string;
  name: string;
  created: string;
}

export class APIError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';
let onExpired: () => void = () => {};

// whenExpired sets what happens when a request finds the session gone
// (expired, logged out elsewhere, the user disabled): back to the login.
export function whenExpired(f: () => void): void {
  onExpired = f;
}

export function setCSRF(token: string): void {
  csrf = token;
}

// send is fetch that keeps the connection's state: any answer means the
// server is there; a network failure (the server stopped, the network
// down) marks it unreachable and is rethrown as it came (not an APIError:
// the pages say "could not reach the server" for those).
async function send(input: string, init: RequestInit): Promise<Response> {
  let resp: Response;
  try {
    resp = await fetch(input, init);
  } catch (err) {
    if (!(err instanceof DOMException && err.name === 'AbortError')) unreachable();
    throw err;
  }
  reached();
  return resp;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const resp = await send(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (resp.status === 204) return undefined as T;
  const data = await resp.json().catch(() => ({}));
  if (resp.status === 401 && path !== '/api/v1/session') onExpired();
  if (!resp.ok) throw new APIError(resp.status, data.error ?? 'error', data.message ?? resp.statusText);
  return data as T;
}

// A search result row: an event's fields (tenant and @timestamp first) or
// a pipe's result row, every value a string.
export type Row = Record<string, string>;

// refused turns an error answer that is not read by call (NDJSON, plain
// text) into an APIError, and notices an ended session as call does.
async function refused(resp: Response): Promise<APIError> {
  let data: { error?: string; message?: string } = {};
  try {
    data = JSON.parse(await resp.text());
  } catch {
    // Not JSON: the status says enough.
  }
  if (resp.status === 401) onExpired();
  return new APIError(resp.status, data.error ?? 'error', data.message ?? resp.statusText);
}

// search runs a LogsQL query (GET /api/v1/search) and returns its rows;
// the answer is NDJSON, and a search that fails after the rows started
// (the last line is an error) throws too.
export async function search(params: URLSearchParams, signal?: AbortSignal): Promise<Row[]> {
  const resp = await send(`/api/v1/search?${params}`, { headers: { Accept: 'application/x-ndjson' }, credentials: 'same-origin', signal });
  if (!resp.ok) throw await refused(resp);
  const rows: Row[] = [];
  for (const line of (await resp.text()).split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as Row;
    if ('error' in row && 'message' in row && Object.keys(row).length === 2) throw new APIError(resp.status, row.error, row.message);
    rows.push(row);
  }
  return rows;
}

// raw returns the record an event came from, as received (GET
// /api/v1/raw); provider roles name the event's tenant, members pass null.
export async function raw(tenant: string | null, ref: string): Promise<string> {
  const p = new URLSearchParams({ ref });
  if (tenant) p.set('tenant', tenant);
  const resp = await send(`/api/v1/raw?${p}`, { credentials: 'same-origin' });
  if (!resp.ok) throw await refused(resp);
  return resp.text();
}

export const api = {
  login: (username: string, password: string, totp: string) =>
    call<Session>('POST', '/api/v1/session', { username, password, totp }),
  session: () => call<Session>('GET', '/api/v1/session'),
  logout: () => call<void>('DELETE', '/api/v1/session'),
  enrolMFA: () => call<{ otpauth_uri: string }>('POST', '/api/v1/session/mfa'),
  confirmMFA: (totp: string) => call<{ recovery_codes: string[] }>('POST', '/api/v1/session/mfa/confirm', { totp }),
  providers: () => call<{ providers: Provider[] | null }>('GET', '/api/v1/auth/providers'),
  tenants: () => call<{ tenants: Tenant[] | null }>('GET', '/api/v1/tenants'),
  alerts: (q: URLSearchParams) => call<{ alerts: Alert[] | null; next_cursor?: string }>('GET', `/api/v1/alerts?${q}`),
  alert: (id: number) => call<Alert>('GET', `/api/v1/alerts/${id}`),
  act: (id: number, verb: string, body: unknown = {}) => call<Alert>('POST', `/api/v1/alerts/${id}/${verb}`, body),
};

export function isProvider(role: string): boolean {
  return role.startsWith('provider-');
}

export function canRespond(role: string): boolean {
  return role !== 'tenant-viewer';
}
