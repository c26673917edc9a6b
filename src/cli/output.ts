// Text output for people, JSON (--json) for scripts.
import type { CommandContext } from './context.js';

/** Columns of a table, each a header and how to read the cell from a row. */
export type Columns<T> = [string, (row: T) => unknown][];

export function table<T>(rows: T[], columns: Columns<T>): string {
  const cells = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, get]) => cell(get(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((v, i) => (i === row.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n');
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** JSON with --json, otherwise the text form. */
export function show(c: CommandContext, value: unknown, text: () => string): void {
  c.io.out(c.json ? JSON.stringify(value, null, 2) : text());
}
