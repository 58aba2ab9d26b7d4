import type { Alert } from './api';
import { t } from './i18n/index.svelte';

function duration(ms: number): string {
  const mins = Math.max(0, Math.round(ms / 60000));
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  if (d > 0) return t('dur.dh', { d, h });
  if (h > 0) return t('dur.hm', { h, m });
  return t('dur.m', { m });
}

// slaText describes the alert's next deadline: time left, or how late.
export function slaText(a: Alert, now: number): { text: string; breached: boolean } {
  const open = a.status !== 'resolved' && a.status !== 'escalated';
  if (!open) return { text: t('sla.done'), breached: a.sla.acknowledge_breached || a.sla.resolve_breached };
  const due = a.status === 'new' ? a.sla.acknowledge_by : a.sla.resolve_by;
  const what = a.status === 'new' ? t('sla.ack') : t('sla.resolve');
  if (!due) return { text: '', breached: false };
  const left = new Date(due).getTime() - now;
  if (left < 0) return { text: t('sla.overdue', { what, time: duration(-left) }), breached: true };
  return { text: t('sla.left', { what, time: duration(left) }), breached: false };
}
