// What the hunt page asks the API (docs/api.md): searches and raw records
// (api.ts's, shared with the alert detail), and indicators, looked up by
// value and added.
import { call } from '../api';
import { sameObservable } from './query';

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

// lookup finds the indicators of type whose observable is value, paging
// through GET /api/v1/intel/indicators?type= (the API has no value filter),
// at most `pages` pages of 1,000.
export async function lookup(type: string, value: string, pages = 20): Promise<Indicator[]> {
  const found: Indicator[] = [];
  let after = '';
  for (let i = 0; i < pages; i++) {
    const p = new URLSearchParams({ type, limit: '1000' });
    if (after) p.set('after', after);
    const page = await call<{ indicators: Indicator[] | null; next?: string }>('GET', `/api/v1/intel/indicators?${p}`);
    for (const ind of page.indicators ?? []) {
      if (ind.observables?.some((o) => o.type === type && sameObservable(type, value, o.value))) found.push(ind);
    }
    if (!page.next) break;
    after = page.next;
  }
  return found;
}

export function addIndicator(body: { type: string; value: string; tlp: string; confidence: number; name?: string }): Promise<Indicator> {
  return call<Indicator>('POST', '/api/v1/intel/indicators', body);
}
