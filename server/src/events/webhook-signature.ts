// Webhook signatures, Standard Webhooks style (https://www.standardwebhooks.com): headers `webhook-id`,
// `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
// The key is the secret's bytes after `whsec_` base64-decoded (the form `flotilla webhooks add` generates),
// or the secret's UTF-8 bytes for any other secret an operator chose.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 16;
export const MAX_SECRET_CHARS = 256;

/** A new random secret: `whsec_` + 32 random bytes in base64. */
export const newSecret = (): string => SECRET_PREFIX + randomBytes(32).toString('base64');

export function secretKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` header value for one delivery. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * What a receiver does: true when one of the space-separated `v1,` signatures matches and the timestamp is
 * within `toleranceSec` of now (replay protection).
 */
export function verify(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSec = Date.now() / 1000,
  toleranceSec = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from(sign(secret, headers.id, ts, body));
  return headers.signature.split(' ').some((s) => {
    const got = Buffer.from(s);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
