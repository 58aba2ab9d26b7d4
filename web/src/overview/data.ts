// What the overview page reads: the SOC metrics of a period with a daily
// series (GET /api/v1/metrics/soc, docs/api.md), and the log sources seen
// in the last 24 hours (a stats search, until the server keeps their
// health itself).
import { call } from '../api';
import { search } from '../hunt/client';
import { formatNumber, t } from '../i18n/index.svelte';

export interface Mean {
  count: number;
  mean_seconds: number;
}

export interface RuleStats {
  rule_id: string;
  title: string;
  alerts: number;
  resolved: number;
  false_positives: number;
  false_positive_rate: number;
}

export interface Bucket {
  time: string;
  alerts: number;
  by_severity: Record<string, number>;
}

export interface SOCStats {
  tenant: string;
  from?: string;
  to: string;
  alerts: number;
  events: number;
  mttd: { ingest_lag: Mean; detection_lag: Mean; total: Mean };
  mtta: Mean;
  mttr: Mean;
  by_severity: Record<string, number> | null;
  by_status: Record<string, number> | null;
  sla_breaches: { acknowledge: number; resolve: number };
  techniques: Record<string, number> | null;
  rules: RuleStats[] | null;
  series?: Bucket[];
  tenants?: SOCStats[];
}

// periods are the days the page offers, one bar a day.
export const periods = [7, 30, 90];

// metrics returns the measures of the last `days` days, whole UTC days
// (the series' intervals) up to now, by day: every member's (with each
// one's in `tenants`) for a provider, the member's own otherwise.
export function metrics(days: number, provider: boolean): Promise<SOCStats> {
  const from = new Date();
  from.setUTCHours(0, 0, 0, 0);
  from.setUTCDate(from.getUTCDate() - (days - 1));
  const q = new URLSearchParams({ from: from.toISOString(), step: '1d' });
  if (provider) q.set('tenant', '*');
  return call<SOCStats>('GET', `/api/v1/metrics/soc?${q}`);
}

// Source is one log source seen in the last 24 hours: a member's dataset
// on a host, how many events it sent and when the last one happened.
export interface Source {
  tenant: string;
  dataset: string;
  host: string;
  events: number;
  last: Date | null;
}

// window is how far back sources are looked for; quietAfter how long a
// source may be silent before it is shown as quiet.
export const sourceWindow = '-24h';
export const quietAfter = 60 * 60 * 1000;

// sources lists the log sources with events in the last 24 hours, every
// member's for a provider.
export async function sources(provider: boolean): Promise<Source[]> {
  const q = new URLSearchParams({
    q: '* | stats by (event.dataset, host.name) count() as events, max(_time) as last_seen',
    from: sourceWindow,
    limit: '5000',
  });
  if (provider) q.set('tenant', '*');
  const rows = await search(q);
  return rows
    .map((r) => {
      const last = r.last_seen ? new Date(r.last_seen) : null;
      return {
        tenant: r.tenant ?? '',
        dataset: r['event.dataset'] ?? '',
        host: r['host.name'] ?? '',
        events: Number(r.events ?? 0),
        last: last && !Number.isNaN(last.getTime()) ? last : null,
      };
    })
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.dataset.localeCompare(b.dataset) || a.host.localeCompare(b.host));
}

export function quiet(s: Source, now: number): boolean {
  return !s.last || now - s.last.getTime() > quietAfter;
}

// duration says a mean time in words: seconds under a minute, else
// minutes, hours and days as the SLA column does.
export function duration(seconds: number): string {
  if (seconds < 59.5) return t('overview.seconds', { s: formatNumber(Math.round(seconds)) });
  const mins = Math.round(seconds / 60);
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  if (d > 0) return t('dur.dh', { d, h });
  if (h > 0) return t('dur.hm', { h, m });
  return t('dur.m', { m });
}
