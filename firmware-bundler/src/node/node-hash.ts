// SHA-256 through node:crypto (OpenSSL): the same digests as the browser path, several times faster.
import { createHash } from 'node:crypto';
import type { Sha256Hex } from '../bytes.ts';

/** SHA-256 hex via node:crypto; pass as the `sha256` option of chunking, packing and verifying. */
export const nodeSha256Hex: Sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
