// Ledger ids: a type prefix and a monotonic ULID, so ids sort by creation time, which makes
// keyset pagination by id stable.
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

// ulid's default PRNG asks WebCrypto for one byte per character (16 calls per id, a few per
// cent of a create's serving time); this one hands out bytes of a pool that one
// randomFillSync call refills, the same CSPRNG. ulid takes floor(prng() * 32) per character,
// which a byte / 256 gives uniformly.
const pool = Buffer.alloc(4096);
let next = pool.length;
const prng = () => {
  if (next === pool.length) { randomFillSync(pool); next = 0; }
  return pool[next++]! / 256;
};
const ulid = monotonicFactory(prng);

export type IdPrefix = 'vm' | 'ino' | 'file' | 'bind' | 'mig' | 'int' | 'tok';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now).toLowerCase()}`;
}
