// The threat-intelligence area's client: indicators, imports, retro-hunts,
// campaigns and advisories as the API gives them (docs/api.md, "Threat
// intelligence", "Defend as one", "Advisories").
import { who } from '../actors.svelte';
import { APIError, call, type Session } from '../api';
import { t } from '../i18n/index.svelte';

export interface Observable {
  type: string;
  value: string;
  warninglist?: string;
}

export interface Indicator {
  id: string;
  name?: string;
  description?: string;
  observables?: Observable[];
  pattern?: string;
  tlp: string;
  confidence: number;
  valid_from: string;
  valid_until?: string;
  source?: string;
  tags?: string[];
  attack?: string[];
  owner?: string;
  audience?: string[];
  revoked?: boolean;
  created: string;
  modified: string;
}

export interface Sighting {
  id: number;
  indicator: string;
  tenant?: string;
  alert?: number;
  first_seen: string;
  last_seen: string;
  count: number;
  source?: string;
}

export interface RetroHunt {
  id: number;
  indicator: string;
  tenant: string;
  status: string;
  since: string;
  created: string;
  finished?: string;
  scanned: number;
  hits: number;
  error?: string;
}

export interface Skip {
  ref: string;
  reason: string;
}

export interface ImportSummary {
  imported: number;
  updated: number;
  unchanged: number;
  objects: number;
  sightings: number;
  skipped: Skip[];
}

export interface CampaignLink {
  tenant: string;
  alert: number;
  seen: string;
}

export interface Campaign {
  id: number;
  kind: string;
  value: string;
  title: string;
  first_seen: string;
  last_seen: string;
  created: string;
  // status is open or closed; active is an open one whose last alert is
  // within the window (a further member's alert joins it).
  status: string;
  active: boolean;
  closed_at?: string;
  closed_by?: string;
  close_note?: string;
  members: number;
  alerts?: CampaignLink[];
}

// The list's status filter: open (the default, the working list), closed
// or all.
export const campaignFilters = ['open', 'closed', 'all'];

// campaignState is how a campaign reads: active (it still takes alerts),
// quiet (open, its window passed) or closed.
export function campaignState(c: Campaign): 'active' | 'quiet' | 'closed' {
  if (c.status !== 'open') return 'closed';
  return c.active ? 'active' : 'quiet';
}

// maxCampaignNote is the longest closing note the server keeps, in bytes
// (UTF-8), not characters.
export const maxCampaignNote = 4096;

export interface Ack {
  advisory: number;
  tenant: string;
  by: string;
  at: string;
}

export interface Advisory {
  id: number;
  title_en: string;
  title_cy: string;
  summary_en: string;
  summary_cy: string;
  actions_en?: string;
  actions_cy?: string;
  tlp: string;
  indicators: string[];
  audience?: string[];
  author: string;
  published: string;
}

export interface AdvisoryEntry extends Advisory {
  acknowledged?: Ack;
  recipients?: number;
  acks?: number;
}

export interface AdvisoryDetail {
  advisory: Advisory;
  acknowledged?: Ack;
  members?: { tenant: string; acknowledged: boolean; by?: string; at?: string }[];
  pending?: string[];
  seen: { indicator: string; members: { tenant: string; last_seen: string; addressed: boolean }[] }[] | null;
}

// The indicator types and TLP 2.0 levels the server knows (internal/intel).
export const types = ['ipv4', 'ipv6', 'cidr', 'domain', 'url', 'md5', 'sha1', 'sha256', 'email', 'email-subject', 'filename'];
export const tlps = ['clear', 'green', 'amber', 'amber+strict', 'red'];

export const intelAPI = {
  indicators: (q: URLSearchParams) => call<{ indicators: Indicator[]; next?: string }>('GET', `/api/v1/intel/indicators?${q}`),
  indicator: (id: string) =>
    call<{ indicator: Indicator; sightings: Sighting[] }>('GET', `/api/v1/intel/indicators/${encodeURIComponent(id)}`),
  add: (body: Record<string, unknown>) => call<Indicator>('POST', '/api/v1/intel/indicators', body),
  revoke: (id: string) => call<Indicator>('POST', `/api/v1/intel/indicators/${encodeURIComponent(id)}/revoke`, {}),
  hunts: (q: URLSearchParams) => call<{ hunts: RetroHunt[] }>('GET', `/api/v1/intel/hunts?${q}`),
  campaigns: (status: string) =>
    call<{ campaigns: Campaign[] | null }>('GET', `/api/v1/campaigns?${new URLSearchParams({ status, limit: '500' })}`),
  campaign: (id: string) => call<Campaign>('GET', `/api/v1/campaigns/${encodeURIComponent(id)}`),
  // closeCampaign and reopenCampaign answer the campaign without its
  // alerts.
  closeCampaign: (id: string, note: string) =>
    call<Campaign>('POST', `/api/v1/campaigns/${encodeURIComponent(id)}/close`, note ? { note } : {}),
  reopenCampaign: (id: string) => call<Campaign>('POST', `/api/v1/campaigns/${encodeURIComponent(id)}/reopen`, {}),
  advisories: () => call<{ advisories: AdvisoryEntry[] | null }>('GET', '/api/v1/advisories'),
  advisory: (id: string) => call<AdvisoryDetail>('GET', `/api/v1/advisories/${encodeURIComponent(id)}`),
  publish: (body: Record<string, unknown>) => call<Advisory>('POST', '/api/v1/advisories', body),
  ack: (id: number) => call<Ack>('POST', `/api/v1/advisories/${id}/ack`, {}),
};

// importFile posts one file as it is (a STIX bundle, MISP event or CSV
// list): the body is the file's bytes, not JSON, so it does not go through
// call(); the session's CSRF token comes along as on every write.
export async function importFile(session: Session, file: File, q: URLSearchParams): Promise<ImportSummary> {
  q.set('name', file.name);
  const resp = await fetch(`/api/v1/intel/import?${q}`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/octet-stream', 'X-CSRF-Token': session.csrf_token },
    body: file,
    credentials: 'same-origin',
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new APIError(resp.status, data.error ?? 'error', data.message ?? resp.statusText);
  return data as ImportSummary;
}

// value is how an indicator is named in a list: its observables' values,
// else its STIX pattern.
export function value(i: Indicator): string {
  if (i.observables && i.observables.length > 0) return i.observables.map((o) => o.value).join(', ');
  return i.pattern ?? i.id;
}

// kind is its observables' type ('pattern' for a pattern alone).
export function kind(i: Indicator): string {
  return i.observables?.[0]?.type ?? 'pattern';
}

export function expired(i: Indicator, now = Date.now()): boolean {
  return !!i.valid_until && new Date(i.valid_until).getTime() <= now;
}

export function notFound(err: unknown): boolean {
  return err instanceof APIError && (err.status === 404 || err.status === 403);
}

// sourceText is how an indicator's or sighting's source reads: one added
// by hand ("manual:" and its author) names the person or token.
export function sourceText(source: string | undefined): string {
  if (!source) return '';
  return source.startsWith('manual:') ? t('intel.source.manual', { who: who(source.slice('manual:'.length)) }) : source;
}
