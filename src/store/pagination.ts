// Keyset pagination over ULID-ordered ids. The cursor is opaque to clients (base64url of the
// last id seen), so the encoding can change without breaking them.
import { WIRE } from '../domain/limits.js';
export interface Page<T> { items: T[]; nextCursor: string | null }

export const DEFAULT_LIMIT = WIRE.pageLimitDefault;
export const MAX_LIMIT = WIRE.pageLimitMax;

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** Returns the decoded key, or null when the cursor is not one we issued. */
export function decodeCursor(cursor: string | undefined): string | null | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[a-z]+_[0-9a-z]{26}$/.test(key) || /^\d+$/.test(key) ? key : null;
}

/** Rows were fetched with limit + 1; the extra row only says there is a next page. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? encodeCursor(keyOf(items[items.length - 1]!)) : null };
}
