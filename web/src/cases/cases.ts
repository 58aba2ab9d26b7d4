// The cases API (docs/api.md, Cases) as the console uses it, and how a
// timeline entry reads.
import { call, isProvider, type Session } from '../api';
import { t } from '../i18n/index.svelte';

export interface Observable {
  type: string;
  value: string;
  source: string;
  added: string;
}

export interface Task {
  id: number;
  title: string;
  done: boolean;
  author: string;
  created: string;
  updated: string;
}

export interface Evidence {
  sha256: string;
  name: string;
  size: number;
  author: string;
  added: string;
}

export interface Entry {
  id: number;
  time: string;
  kind: string;
  author: string;
  role?: string;
  text: string;
  data?: Record<string, string>;
}

export interface Case {
  id: number;
  tenant: string;
  title: string;
  description: string;
  severity: string;
  tlp: string;
  status: string;
  assignee: string;
  author: string;
  created: string;
  updated: string;
  closed?: string;
  classification?: string;
  summary?: string;
  escalated?: string;
  acknowledged_by_member?: string;
  acknowledged_by?: string;
  // The parts: a list's cases have none.
  alerts?: number[] | null;
  observables?: Observable[] | null;
  tasks?: Task[] | null;
  evidence?: Evidence[] | null;
  timeline?: Entry[] | null;
}

// A case change on the live stream: the case after it, whose timeline
// holds only the entries the change added.
export interface Change {
  tenant: string;
  what: string;
  actor: string;
  case?: Case;
}

export const levels = ['critical', 'high', 'medium', 'low', 'informational'];
export const statuses = ['open', 'in-progress', 'closed'];
export const tlps = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
export const classes = ['true-positive', 'benign-positive', 'false-positive', 'duplicate'];

// severityRank orders severities, most severe first.
export function severityRank(s: string): number {
  const i = levels.indexOf(s);
  return i < 0 ? levels.length : i;
}

const base = '/api/v1/cases';

// Template is a kind of case and the tasks it starts with (cases.templates).
export interface Template {
  name: string;
  tasks: string[];
}

export const cases = {
  list: (q: URLSearchParams) => call<{ cases: Case[] | null; next_cursor?: string }>('GET', `${base}?${q}`),
  get: (id: number) => call<Case>('GET', `${base}/${id}`),
  create: (body: { tenant: string; title: string; severity?: string; from_alerts: number[]; template?: string }) => call<Case>('POST', base, body),
  templates: () => call<{ templates: Template[] | null }>('GET', `${base}/templates`),
  patch: (id: number, body: Record<string, string>) => call<Case>('PATCH', `${base}/${id}`, body),
  comment: (id: number, text: string) => call<Case>('POST', `${base}/${id}/comments`, { text }),
  addTask: (id: number, title: string) => call<Case>('POST', `${base}/${id}/tasks`, { title }),
  setTask: (id: number, task: number, done: boolean) => call<Case>('PATCH', `${base}/${id}/tasks/${task}`, { done }),
  addObservable: (id: number, type: string, value: string) => call<Case>('POST', `${base}/${id}/observables`, { type, value }),
  act: (id: number, verb: string, body: unknown = {}) => call<Case>('POST', `${base}/${id}/${verb}`, body),
};

// upload sends an evidence file (multipart, its file name names it) and
// returns the evidence, or throws the status and the server's code.
export async function upload(session: Session, id: number, file: File): Promise<Evidence> {
  const form = new FormData();
  form.append('file', file, file.name);
  const resp = await fetch(`${base}/${id}/evidence`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'X-CSRF-Token': session.csrf_token },
    body: form,
    credentials: 'same-origin',
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error ?? String(resp.status));
  return data as Evidence;
}

export function evidenceURL(id: number, sha256: string): string {
  return `${base}/${id}/evidence/${encodeURIComponent(sha256)}`;
}

export function exportURL(id: number, format: 'json' | 'html'): string {
  return `${base}/${id}/export?format=${format}`;
}

// streamURL is the live stream of case changes the session may follow:
// a provider names the tenant (or every tenant), a member's user never.
export function streamURL(session: Session, tenant = '*'): string {
  return isProvider(session.role) ? `/api/v1/stream?tenant=${encodeURIComponent(tenant)}&kind=case` : '/api/v1/stream?kind=case';
}

// entryText is what a timeline entry says, in the console's language
// (the server's text is English and is used only for what people wrote).
export function entryText(e: Entry, c: Case): string {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'comment':
    case 'event':
      return e.text;
    case 'alert':
      return t('cases.entry.alert', { id: d.alert ?? '', title: e.text });
    case 'evidence':
      return t('cases.entry.evidence', { name: d.name ?? '' });
    case 'observable':
      return t('cases.entry.observable', { type: d.type ?? '', value: d.value ?? '' });
    case 'task': {
      if (d.title !== undefined) return t('cases.entry.taskAdded', { title: d.title });
      if (d.template !== undefined) return t('cases.entry.template', { name: d.template, n: d.tasks ?? '' });
      const task = (c.tasks ?? []).find((tk) => String(tk.id) === d.task);
      return t(d.done === 'true' ? 'cases.entry.taskDone' : 'cases.entry.taskReopened', { title: task?.title ?? d.task ?? '' });
    }
    case 'state':
      switch (d.verb) {
        case 'create':
          return t('cases.entry.opened');
        case 'assign':
          return t('cases.entry.assigned', { to: d.to ?? '' });
        case 'escalate':
          return t('cases.entry.escalated');
        case 'acknowledge':
          return t('cases.entry.acknowledged');
        case 'close':
          return t('cases.entry.closed', { class: d.classification ? t(`class.${d.classification}`) : '' });
        case 'reopen':
          return t('cases.entry.reopened');
        case 'update': {
          const fields = Object.keys(d)
            .filter((k) => k !== 'verb')
            .map((k) => t(`cases.field.${k}`));
          return t('cases.entry.updated', { fields: fields.join(', ') });
        }
      }
  }
  return e.text;
}
