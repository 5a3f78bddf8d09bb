// Response schemas of the key routes: the trusted bundle-signing keys and what a rotate or retire changed.
import { z } from '@hono/zod-openapi';

export const TrustedKey = z
  .object({
    keyId: z.string(),
    publicKey: z.string().openapi({ description: 'Raw Ed25519 public key, 64 hex characters' }),
    file: z.string().openapi({ description: 'The public key file (SPEC §6.4), as `flotilla agent --trusted-key` reads it' }),
    fingerprint: z
      .string()
      .openapi({ description: 'SHA256:<64 hex> of the public key; compare it out of band (flotilla agent --trust-fingerprint)' }),
    active: z.boolean().openapi({ description: 'New bundles are signed with this key' }),
  })
  .openapi('TrustedKey');

export const TrustUpdateBody = z
  .object({
    v: z.literal(1),
    version: z.number(),
    keys: z.array(z.string()),
    threshold: z.number(),
    issuedAt: z.string(),
    signatures: z.array(z.object({ keyId: z.string(), signature: z.string() })),
  })
  .openapi('TrustUpdate', { description: 'The signed trust update every desired state carries [WIRE-2.2.3] (SPEC §6.6)' });

export const KeyList = z.object({
  version: z.number().openapi({ description: 'Trust version: 0 while the first key is the only one ever trusted' }),
  threshold: z.number().openapi({ description: 'Signatures by these keys the next trust update needs' }),
  active: z.string().openapi({ description: 'Key id new bundles are signed with' }),
  keys: z.array(TrustedKey),
  trust: TrustUpdateBody.nullable().openapi({ description: 'The current signed trust update (null at version 0)' }),
});

export const TrustChange = z.object({
  version: z.number(),
  threshold: z.number(),
  active: z.string(),
  keyId: z.string().openapi({ description: 'The key added (rotate) or removed (retire)' }),
  signedBy: z.array(z.string()).openapi({ description: 'Key ids whose signatures the new trust update carries' }),
  devices: z.number().openapi({ description: 'Devices given a new desired state revision carrying the update' }),
  keys: z.array(TrustedKey),
});
