// Token secrets: 32 random bytes, shown once, stored only as their SHA-256. A secret with
// that much entropy cannot be guessed from its hash, so no slow KDF is needed, and the
// lookup on every request stays one index probe.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'gmemd_';

export const newSecret = (): string => PREFIX + randomBytes(32).toString('base64url');

// One-shot crypto.hash: a third of createHash().update().digest()'s cost, on every request.
export const hashSecret = (secret: string): string => hash('sha256', secret, 'hex');

/** Constant-time comparison of two hex digests (the index found the row; this confirms it). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
