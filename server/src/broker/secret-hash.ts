// Checking a presented secret against the sha256 the store keeps, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether sha256(secret) equals the stored lower-case hex hash; constant time, false on any length mismatch. */
export function hashMatches(storedHex: string, secret: Buffer | string): boolean {
  const got = createHash('sha256').update(secret).digest();
  const want = Buffer.from(storedHex, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}
