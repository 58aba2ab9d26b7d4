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
