import type { Alert } from './api';

// subject is what an alert is about, for a line of a list: its host and
// user or, for an alert with neither (password spraying from one address,
// a phishing sender), its first other entity, with that entity's type as
// the hover text.
export function subject(a: Alert): { text: string; title?: string } {
  const text = [a.host, a.user].filter(Boolean).join(' · ');
  if (text) return { text };
  const e = (a.entities ?? []).find((e) => e.type !== 'host' && e.type !== 'user');
  return e ? { text: e.value, title: e.type } : { text: '' };
}
