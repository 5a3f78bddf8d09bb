// The public keys devices are provisioned with, to verify bundle signatures. Mounted before operator
// authentication (see app.ts): agents fetch them on first start and check the fingerprint themselves.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import type { FleetServices } from './fleet-services.ts';

export function keyRoutes(f: FleetServices) {
  return new OpenAPIHono<AppEnv>().openapi(
    createRoute({
      method: 'get', path: '/keys', summary: 'Bundle signing public keys (give them to devices as trust anchors); no token needed',
      responses: {
        200: {
          description: 'keys',
          content: { 'application/json': { schema: z.object({ keys: z.array(z.object({
            keyId: z.string(), publicKey: z.string(), file: z.string(),
            fingerprint: z.string().openapi({ description: 'SHA256:<64 hex> of the public key; compare it out of band (flotilla agent --trust-fingerprint)' }),
          })) }) } },
        },
      },
    }),
    (c) => c.json({ keys: [{ keyId: f.key.keyId, publicKey: f.key.publicKeyHex, file: f.key.publicKeyFile, fingerprint: f.key.fingerprint }] }, 200),
  );
}
