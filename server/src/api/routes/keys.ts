// The public keys devices are provisioned with, to verify bundle signatures.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import type { FleetServices } from './fleet-services.ts';

export function keyRoutes(f: FleetServices) {
  return new OpenAPIHono<AppEnv>().openapi(
    createRoute({
      method: 'get', path: '/keys', summary: 'Bundle signing public keys (give them to devices as trust anchors)',
      responses: {
        200: {
          description: 'keys',
          content: { 'application/json': { schema: z.object({ keys: z.array(z.object({ keyId: z.string(), publicKey: z.string(), file: z.string() })) }) } },
        },
      },
    }),
    (c) => c.json({ keys: [{ keyId: f.key.keyId, publicKey: f.key.publicKeyHex, file: f.key.publicKeyFile }] }, 200),
  );
}
