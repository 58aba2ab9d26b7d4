// What the hunt page asks the API (docs/api.md): searches and raw records
// (api.ts's, shared with the alert detail), and indicators, looked up by
// value and added.
import { call } from '../api';

export { raw, search, type Row } from '../api';

export interface Indicator {
  id: string;
  name?: string;
  observables?: { type: string; value: string; warninglist?: string }[];
  tlp: string;
  confidence: number;
  owner?: string;
  revoked?: boolean;
}

// lookup finds the indicators the reader may see with an observable of
// type and value (GET /api/v1/intel/indicators?type=&value=; the server
// normalises the value as the type's are).
export async function lookup(type: string, value: string): Promise<Indicator[]> {
  const p = new URLSearchParams({ type, value, limit: '100' });
  return (await call<{ indicators: Indicator[] | null }>('GET', `/api/v1/intel/indicators?${p}`)).indicators ?? [];
}

export function addIndicator(body: { type: string; value: string; tlp: string; confidence: number; name?: string }): Promise<Indicator> {
  return call<Indicator>('POST', '/api/v1/intel/indicators', body);
}

// A saved search (GET/POST/PUT/DELETE /api/v1/searches): the caller's
// own space's, a member's or, for provider roles, the provider's. One
// with a schedule runs on its own and raises alerts (producer "search").
export interface SavedSearch {
  id: number;
  tenant: string;
  name: string;
  query: string;
  description: string;
  author: string;
  editor?: string;
  created: string;
  updated: string;
  schedule?: Schedule;
  last_run?: LastRun;
}

// Schedule is how a saved search runs on its own: every Every (a Go
// duration, "15m"), over the window ending Delay before now, alerting at
// Level in each member where at least Threshold result rows matched.
export interface Schedule {
  every: string;
  delay?: string;
  threshold: number;
  level: string;
  // ATT&CK and other tags for its alerts (set through the API or the CLI).
  tags?: string[];
}

// LastRun is a scheduled search's last run: when, how many rows it found
// over every member, in how many members it alerted, or why it failed.
export interface LastRun {
  until?: string;
  at: string;
  found: number;
  members: number;
  error?: string;
}

// SearchBody is what a save or change sends; a change replaces the
// whole search, its schedule too (null: it no longer runs on its own).
export interface SearchBody {
  name: string;
  query: string;
  description: string;
  schedule: Schedule | null;
}

// savedSearches lists the caller's own space's searches or, for provider
// roles, member tenant's.
export async function savedSearches(tenant?: string): Promise<SavedSearch[]> {
  const path = tenant ? `/api/v1/searches?${new URLSearchParams({ tenant })}` : '/api/v1/searches';
  return (await call<{ searches: SavedSearch[] | null }>('GET', path)).searches ?? [];
}

export function saveSearch(body: SearchBody): Promise<SavedSearch> {
  return call<SavedSearch>('POST', '/api/v1/searches', body);
}

export function updateSearch(id: number, body: SearchBody): Promise<SavedSearch> {
  return call<SavedSearch>('PUT', `/api/v1/searches/${id}`, body);
}

export function deleteSearch(id: number): Promise<SavedSearch> {
  return call<SavedSearch>('DELETE', `/api/v1/searches/${id}`);
}
