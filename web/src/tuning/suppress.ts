// Suppressions (docs/api.md, "Alerts"): a rule's detections stopped at
// one member, where the detection holds given values, until they expire.
// Provider roles and a member's admin add and remove them; every reader
// sees them.
import { call } from '../api';

export interface Condition {
  field: string;
  value: string;
}

export interface Suppression {
  id: number;
  tenant: string;
  rule_id: string;
  // rule_title is the rule's title while the rule is loaded.
  rule_title?: string;
  where: Condition[];
  reason: string;
  author: string;
  created: string;
  expires?: string;
  active: boolean;
  hits: number;
}

// canTune reports whether role may add and remove suppressions (of its
// own member, for a member's admin).
export function canTune(role: string): boolean {
  return role === 'provider-analyst' || role === 'provider-admin' || role === 'tenant-admin';
}

// suppressions lists tenant's ('*': every member's, for provider roles;
// '' the caller's own member's).
export async function suppressions(tenant: string): Promise<Suppression[]> {
  const q = tenant ? `?tenant=${encodeURIComponent(tenant)}` : '';
  return (await call<{ suppressions: Suppression[] | null }>('GET', `/api/v1/suppressions${q}`)).suppressions ?? [];
}

export function suppress(body: { tenant: string; rule_id: string; where: Condition[]; reason: string; expires?: string }): Promise<Suppression> {
  return call<Suppression>('POST', '/api/v1/suppressions', body);
}

export function unsuppress(s: Suppression): Promise<Suppression> {
  return call<Suppression>('DELETE', `/api/v1/suppressions/${s.id}?tenant=${encodeURIComponent(s.tenant)}`);
}

// expiries are the lifetimes offered, in hours (0: never).
export const expiries = [8, 24, 24 * 7, 24 * 30, 0];
