// Small numeric and text helpers shared by the bench sections: medians over rounds,
// percentiles over raw samples, and a plain-text table that reads well in a terminal and
// pastes cleanly into a report.

export function median(xs: readonly number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** Linear-interpolated quantile of an already sorted array; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Growable Float64 sample buffer: a hot 'response' listener must not allocate per call. */
export class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  /** p50 and p99 (ms in, ms out); null without samples. */
  percentiles(): { p50: number; p99: number } | null {
    if (this.length === 0) return null;
    const s = this.buf.slice(0, this.length).sort();
    return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
  }
}

export const fmtInt = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';

export const fmtRatio = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '—');

export const fmtMs = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '—' : n < 10 ? n.toFixed(2) : n.toFixed(1);

/** Columns are right-aligned except the first; a dashed rule separates the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
    .join('  ')
    .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A printed table or block, indented under its section heading. */
export const indent = (s: string): string => s.split('\n').map((l) => `   ${l}`).join('\n');
