// What the overview page reads: the SOC metrics of a period with a daily
// series (GET /api/v1/metrics/soc), the health of the log sources (GET
// /api/v1/sources), the onboarding scorecards (GET /api/v1/scorecard), and
// the address of a member's monthly report (GET /api/v1/reports); see
// docs/api.md.
import { call } from '../api';
import { formatNumber, t, tn } from '../i18n/index.svelte';

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

// Source is one log source's health: a member's records through one
// receiver from one host of one type, or a declared source not yet heard
// from (state "waiting", no host), or a receiver's row of dead letters.
export interface Source {
  tenant: string;
  receiver: string;
  host: string;
  type: string;
  name?: string;
  declared: boolean;
  first_seen?: string;
  last_seen?: string;
  events: number;
  unparsed: number;
  dead_letters_24h: number;
  rate: number;
  baseline: number | null;
  silence_seconds: number;
  state: string;
}

// states are the states a source may be in, worst first; alarming those
// the page counts and marks.
export const states = ['silent', 'dropped', 'waiting', 'idle', 'ok'];
export const alarming = ['silent', 'dropped', 'waiting'];

// tenantScope is the query that asks for every member's (providers) or
// the caller's own.
function tenantScope(provider: boolean): string {
  return provider ? '?tenant=*' : '';
}

// sources lists the log sources with their health, every member's for a
// provider, by member and the worst state first.
export async function sources(provider: boolean): Promise<Source[]> {
  const r = await call<{ sources: Source[] | null }>('GET', `/api/v1/sources${tenantScope(provider)}`);
  return r.sources ?? [];
}

// Scorecard is one member's onboarding (docs/api.md).
export interface Scorecard {
  tenant: string;
  name: string;
  onboarded: string;
  days_onboarded: number;
  score: number;
  sources: { declared: number; heard: number; waiting: string[] | null; seen: number; silent: number; dropped: number };
  coverage: {
    seen: string[] | null;
    rules_enabled: number;
    rules_fed: number;
    covered: number;
    blind: number;
    searches: number;
    techniques: { id: string; rules: number; fed: number; searches: number; sources: string[] | null }[] | null;
    next: { source: string; techniques: string[] | null; rules: number }[] | null;
  };
  next: string[] | null;
}

export async function scorecards(provider: boolean): Promise<Scorecard[]> {
  const r = await call<{ scorecards: Scorecard[] | null }>('GET', `/api/v1/scorecard${tenantScope(provider)}`);
  return r.scorecards ?? [];
}

// nextSources and nextTechniques bound the suggestions as the server's
// own (internal/onboard): five log sources, six techniques named each.
const nextSources = 5;
const nextTechniques = 6;

// suggestions says what a member should connect next, in the reader's
// language, as the scorecard's `next` does in English: the declared
// sources never heard from, the silent ones to restore, then the log
// sources that would feed the most rules on blind techniques.
export function suggestions(sc: Scorecard): string[] {
  const out = (sc.sources.waiting ?? []).map((name) => t('overview.next.connect', { name }));
  if (sc.sources.silent > 0) out.push(t('overview.next.restore', { n: formatNumber(sc.sources.silent) }));
  for (const g of (sc.coverage.next ?? []).slice(0, nextSources)) {
    const ids = g.techniques ?? [];
    if (ids.length === 0) break;
    let list = ids.slice(0, nextTechniques).join(', ');
    if (ids.length > nextTechniques) list += ' ' + t('overview.next.more', { n: formatNumber(ids.length - nextTechniques) });
    out.push(t('overview.next.send', { source: g.source, rules: tn('overview.next.rules', g.rules), blind: tn('overview.next.blind', ids.length), techniques: list }));
  }
  return out;
}

// Report is what the monthly report control asks for.
export interface Report {
  tenant: string;
  month: string;
  lang: string;
  format: string;
}

// thisMonth is the current calendar month in UTC (YYYY-MM), the month
// reports are counted in.
export function thisMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

// reportURL is the address of a member's monthly report; the session
// cookie authenticates the plain link.
export function reportURL(r: Report): string {
  const q = new URLSearchParams();
  if (r.tenant) q.set('tenant', r.tenant);
  if (r.month) q.set('month', r.month);
  q.set('lang', r.lang);
  q.set('format', r.format);
  return `/api/v1/reports?${q}`;
}

// reportFile is the name the server gives a PDF report (its
// Content-Disposition), offered to the download attribute.
export function reportFile(r: Report): string {
  return `report-${r.tenant || 'member'}-${r.month}-${r.lang}.pdf`;
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
