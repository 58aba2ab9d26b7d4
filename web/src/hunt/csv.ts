// The hunt's results as CSV (RFC 4180) for a spreadsheet, as tarian
// search --csv writes them: a header of every field, @timestamp and
// tenant first, the others sorted, then one line per row. Events are
// attacker-controlled text: a cell a spreadsheet would run as a formula
// (=, +, -, @, a tab or a carriage return first) gets a leading ', unless
// it is a number.
import type { Row } from '../api';

function cell(v: string): string {
  let s = v;
  if (s !== '' && '=+-@\t\r'.includes(s[0]) && !Number.isFinite(Number(s))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCSV(rows: Row[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const first: Record<string, number> = { '@timestamp': 0, tenant: 1 };
  cols.sort((a, b) => (first[a] ?? 2) - (first[b] ?? 2) || (a < b ? -1 : a > b ? 1 : 0));
  // Field names come from events too: guarded as well, but @timestamp.
  const lines = [cols.map((c) => (c === '@timestamp' ? c : cell(c))).join(',')];
  for (const r of rows) lines.push(cols.map((c) => cell(r[c] ?? '')).join(','));
  return lines.join('\r\n') + '\r\n';
}

// download offers text as a file named name.
export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
