// Ledger ids: a type prefix and a monotonic ULID, so ids sort by creation time, which makes
// keyset pagination by id stable.
import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

export type IdPrefix = 'vm' | 'ino' | 'file' | 'bind' | 'mig' | 'int' | 'tok';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now).toLowerCase()}`;
}
