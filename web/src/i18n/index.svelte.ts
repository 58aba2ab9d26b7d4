// The console's message catalogues: every string the user sees comes from
// en/*.json or cy/*.json, one file per area of the console, merged here (a
// Go test in web/ fails on a key missing from either language, in two
// files, or used in the sources but in no catalogue).
export type Lang = 'en' | 'cy';
type Catalogue = Record<string, string>;

function merge(files: Record<string, Catalogue>): Catalogue {
  return Object.assign({}, ...Object.keys(files).sort().map((f) => files[f]));
}

const catalogues: Record<Lang, Catalogue> = {
  en: merge(import.meta.glob<Catalogue>('./en/*.json', { eager: true, import: 'default' })),
  cy: merge(import.meta.glob<Catalogue>('./cy/*.json', { eager: true, import: 'default' })),
};
const storageKey = 'tarian.lang';

function initial(): Lang {
  try {
    const saved = localStorage.getItem(storageKey);
    if (saved === 'en' || saved === 'cy') return saved;
  } catch {
    // Storage may be disabled; fall back to the browser's language.
  }
  return navigator.language.toLowerCase().startsWith('cy') ? 'cy' : 'en';
}

// Msg is a message not yet translated: a key and its parameters.
export type Msg = [key: string, params?: Record<string, string | number>];

export const i18n = $state({ lang: initial() as Lang });

export function setLang(l: Lang): void {
  i18n.lang = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(storageKey, l);
  } catch {
    // Not remembered, still switched.
  }
}

// t returns the message key in the current language with {name}
// placeholders filled from params.
export function t(key: string, params: Record<string, string | number> = {}): string {
  const msg = catalogues[i18n.lang][key] ?? catalogues.en[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

// tn is t for a message about n things: the key's ".one" form where the
// language says n takes the singular (and the catalogue has one), else the
// key itself; {n} is n, formatted.
export function tn(key: string, n: number, params: Record<string, string | number> = {}): string {
  const one = `${key}.one`;
  const form = new Intl.PluralRules(locale()).select(n) === 'one' && one in catalogues[i18n.lang] ? one : key;
  return t(form, { ...params, n: formatNumber(n) });
}

// locale is the locale of dates and numbers: Welsh where the browser's
// Intl data has it, else British English (day before month, 24-hour).
const welsh = Intl.DateTimeFormat.supportedLocalesOf(['cy-GB']).length > 0 ? 'cy-GB' : 'en-GB';
export function locale(): string {
  return i18n.lang === 'cy' ? welsh : 'en-GB';
}

// Formatters are costly to make (a queue of 500 alerts formats thousands
// of values), so each locale's is made once.
const timeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 2) return '';
  const l = locale();
  let f = timeFormats.get(l);
  if (!f) timeFormats.set(l, (f = new Intl.DateTimeFormat(l, { dateStyle: 'short', timeStyle: 'medium' })));
  return f.format(d);
}

export function formatNumber(n: number): string {
  const l = locale();
  let f = numberFormats.get(l);
  if (!f) numberFormats.set(l, (f = new Intl.NumberFormat(l)));
  return f.format(n);
}
