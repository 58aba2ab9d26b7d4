// A saved search's schedule in words, and the choices the forms offer
// (docs/api.md, "Saved searches": every from 1m to 168h, threshold 1 to
// 10000, one of the alert levels).
import { formatNumber, formatTime, t, tn } from '../i18n/index.svelte';
import type { LastRun, Schedule } from './client';

// everyChoices are the intervals the forms offer, as the API writes them.
export const everyChoices = ['5m', '15m', '1h', '6h', '24h'] as const;
export const levels = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const maxThreshold = 10000;

// A new schedule's fields.
export const defaults: Schedule = { every: '15m', threshold: 1, level: 'medium' };

const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };

// seconds reads a Go duration ("15m", "1h30m") as seconds, or NaN.
export function seconds(d: string): number {
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) return NaN;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

// everyText names an interval: a choice of the forms by its own words,
// another in the largest whole unit.
export function everyText(d: string): string {
  if ((everyChoices as readonly string[]).includes(d)) return t(`hunt.schedule.every.${d}`);
  const s = seconds(d);
  if (Number.isNaN(s)) return d;
  if (s % 86400 === 0) return t('hunt.step.d', { n: formatNumber(s / 86400) });
  if (s % 3600 === 0) return t('hunt.step.h', { n: formatNumber(s / 3600) });
  if (s % 60 === 0) return t('hunt.step.m', { n: formatNumber(s / 60) });
  return t('hunt.step.s', { n: formatNumber(s) });
}

// scheduleText is a schedule in words: how often, from how many results,
// at what level.
export function scheduleText(s: Schedule): string {
  return t('hunt.schedule.text', { every: everyText(s.every), threshold: formatNumber(s.threshold), level: t(`level.${s.level}`) });
}

// runText is the last run in words, or that there was none yet.
export function runText(r: LastRun | undefined): string {
  if (!r) return t('hunt.schedule.notYet');
  if (r.error) return t('hunt.schedule.failed', { at: formatTime(r.at), error: r.error });
  return tn('hunt.schedule.ran', r.members, { at: formatTime(r.at), found: formatNumber(r.found) });
}
