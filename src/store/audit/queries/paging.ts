// Limits and opaque cursors for the audit queries. Events page by seq, access intervals by
// their row id, exposure by inode id; all go through pagination.ts's encoding so clients
// see one cursor format across the API.
import { decodeCursor, encodeCursor, DEFAULT_LIMIT, MAX_LIMIT, type Page } from '../../pagination.js';
import { err, ok, type Result } from '../../../domain/result.js';

export type { Page };

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

/** A cursor holding an integer key (seq, interval id); absent means "from the start". */
export function decodeIntCursor(cursor: string | undefined): Result<number | undefined> {
  const key = decodeCursor(cursor);
  if (key === undefined) return ok(undefined);
  if (key === null || !/^\d+$/.test(key) || !Number.isSafeInteger(Number(key))) {
    return err('audit.cursor_invalid', 'cursor is not one this service issued');
  }
  return ok(Number(key));
}

/** A cursor holding a prefixed id (exposure pages by inode id). */
export function decodeIdCursor(cursor: string | undefined): Result<string | undefined> {
  const key = decodeCursor(cursor);
  if (key === undefined) return ok(undefined);
  if (key === null || /^\d+$/.test(key)) return err('audit.cursor_invalid', 'cursor is not one this service issued');
  return ok(key);
}

/** Rows were fetched with limit + 1; the extra one only says there is a next page. */
export function pageOf<R, T>(rows: R[], limit: number, keyOf: (row: R) => string | number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(String(keyOf(kept[kept.length - 1]!))) : null };
}
