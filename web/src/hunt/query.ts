// The hunt page's pure helpers: the state a hunt keeps in its URL, time
// ranges and histogram steps, LogsQL editing (splitting off pipes, adding
// an exact-value filter) and guessing an indicator type from a value.

// A hunt as the URL holds it: /hunt?q=…&from=…&to=…&tenant=…&limit=….
// from and to are what the search API takes: relative ("-1h"), RFC 3339,
// or empty (to: now).
export interface Hunt {
  q: string;
  from: string;
  to: string;
  tenant: string;
  limit: number;
}

export const presets = ['15m', '1h', '24h', '7d', '30d'] as const;
export const defaultPreset = '24h';
export const defaultLimit = 100;
export const maxLimit = 10000;

export function parseHunt(search: string): Hunt {
  const p = new URLSearchParams(search);
  const limit = Number(p.get('limit') ?? '');
  return {
    q: p.get('q') ?? '',
    from: p.get('from') ?? `-${defaultPreset}`,
    to: p.get('to') ?? '',
    tenant: p.get('tenant') ?? '',
    limit: Number.isInteger(limit) && limit >= 1 && limit <= maxLimit ? limit : defaultLimit,
  };
}

export function huntURL(h: Hunt): string {
  const p = new URLSearchParams({ q: h.q, from: h.from });
  if (h.to) p.set('to', h.to);
  if (h.tenant) p.set('tenant', h.tenant);
  p.set('limit', String(h.limit));
  return `/hunt?${p}`;
}

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

// seconds reads a relative time ("-15m", "-7d") as seconds from now.
function relative(s: string): number | null {
  const m = /^([+-])(\d+)([smhdw])$/.exec(s.trim());
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * Number(m[2]) * units[m[3]];
}

// presetOf names the preset a from/to pair is ('1h'), or '' for a custom range.
export function presetOf(from: string, to: string): string {
  if (to !== '' && to !== 'now') return '';
  return presets.find((p) => `-${p}` === from) ?? '';
}

// instant reads a from/to value as epoch milliseconds at now; empty is now.
export function instant(s: string, now: number): number {
  if (s === '' || s === 'now') return now;
  const r = relative(s);
  if (r !== null) return now + r * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? now : t;
}

// localInput renders an instant for <input type="datetime-local">.
export function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// Histogram steps in seconds: the first that gives at most ~60 bars.
const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800];

export function stepFor(rangeSeconds: number): number {
  return steps.find((s) => rangeSeconds / s <= 60) ?? steps[steps.length - 1];
}

export function stepText(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

// splitPipes splits a LogsQL query at the pipes outside quotes: the filter
// first, then each pipe, trimmed.
export function splitPipes(q: string): string[] {
  const parts: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (c === '|') {
      parts.push(q.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(q.slice(start).trim());
  return parts;
}

// countable reports whether the query keeps events as events, so that a
// `| stats by (_time:STEP) count()` pipe counts them: no pipes, or only
// filter and where.
export function countable(q: string): boolean {
  return splitPipes(q)
    .slice(1)
    .every((p) => /^(filter|where)\b/i.test(p));
}

export function histogramQuery(q: string, step: number): string {
  return `${q.trim()} | stats by (_time:${stepText(step)}) count() hits`;
}

function fieldName(f: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(f) ? f : JSON.stringify(f);
}

// exact is the LogsQL filter for field equal to value.
export function exact(field: string, value: string): string {
  return `${fieldName(field)}:=${JSON.stringify(value)}`;
}

// addFilter narrows q to events whose field is exactly value, keeping its pipes.
export function addFilter(q: string, field: string, value: string): string {
  const [filter, ...pipes] = splitPipes(q);
  const term = exact(field, value);
  let f = filter;
  if (f === '' || f === '*') f = term;
  else if (/\bor\b/i.test(f)) f = `(${f}) ${term}`;
  else f = `${f} ${term}`;
  return [f, ...pipes].join(' | ');
}

// phrase is the query that finds value anywhere in an event's text.
export function phrase(value: string): string {
  return JSON.stringify(value);
}

export const indicatorTypes = ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256', 'email', 'filename'] as const;

const fileExtensions = new Set(['exe', 'dll', 'sys', 'ps1', 'psm1', 'bat', 'cmd', 'vbs', 'js', 'jse', 'hta', 'msi', 'scr', 'lnk', 'txt', 'log', 'zip', 'rar', '7z', 'doc', 'docx', 'docm', 'xls', 'xlsx', 'xlsm', 'pdf', 'iso', 'img', 'tmp', 'dat', 'bin', 'ini', 'xml', 'json', 'evtx']);

// indicatorType guesses an observable type from value, or '' when none fits.
export function indicatorType(value: string): string {
  const v = value.trim();
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(v)) {
    return v.split('.').every((n) => Number(n) <= 255) ? 'ipv4' : '';
  }
  if (/^\[?[0-9a-f:.]+\]?$/i.test(v) && (v.match(/:/g)?.length ?? 0) >= 2) return 'ipv6';
  if (/^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]+\S*$/i.test(v)) return 'url';
  if (/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i.test(v)) return 'email';
  if (/^[0-9a-f]{32}$/i.test(v)) return 'md5';
  if (/^[0-9a-f]{40}$/i.test(v)) return 'sha1';
  if (/^[0-9a-f]{64}$/i.test(v)) return 'sha256';
  const host = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+([a-z][a-z0-9-]{0,62})\.?$/i.exec(v);
  if (host && v.length <= 253) return fileExtensions.has(host[1].toLowerCase()) ? 'filename' : 'domain';
  if (/^[^\\/:*?"<>|\s][^\\/:*?"<>|]*\.[a-z][a-z0-9]{0,4}$/i.test(v)) return 'filename';
  return '';
}

// entityFields are the fields an alert's entity of each type is searched
// in from the alert: the ECS field its value came from as stored. Types
// whose value the server lowercases (domain, hash, e-mail sender) or finds
// in several fields are searched as a phrase in the text fields.
const entityFields: Record<string, string> = {
  host: 'host.name',
  user: 'user.name',
  'source.ip': 'source.ip',
  'destination.ip': 'destination.ip',
};

// entityQuery is the hunt for an alert's entity: its field exactly, or
// its value as a phrase.
export function entityQuery(type: string, value: string): string {
  const field = entityFields[type];
  return field ? exact(field, value) : phrase(value);
}

// aroundHour is how far either side of an alert its entities are hunted.
const aroundHour = 3600_000;

// aroundURL is the hunt for q from an hour before first to an hour after
// last (an alert's first and last events), in tenant's events.
export function aroundURL(q: string, tenant: string, first: string, last: string): string {
  const from = new Date(Date.parse(first) - aroundHour).toISOString();
  const to = new Date(Date.parse(last) + aroundHour).toISOString();
  return huntURL({ q, from, to, tenant, limit: defaultLimit });
}
