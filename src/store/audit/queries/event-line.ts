// One NDJSON line of the export, written directly from a raw row (an array in EVENT_COLUMNS
// order): JSON.stringify of the whole AuditEvent object cost about half of the export's time.
// The text is exactly JSON.stringify(toAuditEvent(row)), or of the HTTP wire form
// (src/http/audit-wire.ts: the time as an ISO string) for 'wire', in the same key order
// (test/store/audit/event-line.test.ts). A row with a value of a type its column should not hold
// (a tampered file) goes the slow way, through the objects themselves.
import { jsonString } from '../../audit-chain.js';
import { parseDetails, toAuditEvent, type AuditEvent } from '../event-rows.js';
import type { EventRow } from '../../audit-chain.js';

/** 'event': AuditEvent as is (time in epoch ms); 'wire': the API's form, time as ISO 8601. */
export type LineFormat = 'event' | 'wire';

const wire = (e: AuditEvent) => ({ ...e, time: new Date(e.time).toISOString() });

/** A line writer for rows of a statement whose columns are `names` (EVENT_COLUMNS). */
export function lineWriter(names: readonly string[], format: LineFormat): (row: unknown[]) => string {
  const prefix = names.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);
  const seqAt = names.indexOf('seq'), timeAt = names.indexOf('time'), detailsAt = names.indexOf('details');
  const slow = (row: unknown[]): string => {
    const e = toAuditEvent(Object.fromEntries(names.map((k, i) => [k, row[i]])) as unknown as EventRow);
    return `${JSON.stringify(format === 'wire' ? wire(e) : e)}\n`;
  };
  return (row) => {
    let s = '';
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      let text: string;
      if (i === seqAt || i === timeAt) {
        if (typeof v !== 'number' || !Number.isFinite(v)) return slow(row);
        text = i === timeAt && format === 'wire' ? `"${new Date(v).toISOString()}"` : `${v}`;
      } else if (typeof v === 'string') {
        text = i === detailsAt ? JSON.stringify(parseDetails(v)) : jsonString(v);
      } else if (v === null && i !== detailsAt) {
        text = 'null';
      } else {
        return slow(row);
      }
      s += prefix[i]! + text;
    }
    return `${s}}\n`;
  };
}
