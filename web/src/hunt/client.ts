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

// A saved search (GET/POST/DELETE /api/v1/searches): the caller's own
// space's, a member's or, for provider roles, the provider's.
export interface SavedSearch {
  id: number;
  tenant: string;
  name: string;
  query: string;
  description: string;
  author: string;
  updated: string;
}

export async function savedSearches(): Promise<SavedSearch[]> {
  return (await call<{ searches: SavedSearch[] | null }>('GET', '/api/v1/searches')).searches ?? [];
}

export function saveSearch(body: { name: string; query: string; description: string }): Promise<SavedSearch> {
  return call<SavedSearch>('POST', '/api/v1/searches', body);
}

export function deleteSearch(id: number): Promise<SavedSearch> {
  return call<SavedSearch>('DELETE', `/api/v1/searches/${id}`);
}
