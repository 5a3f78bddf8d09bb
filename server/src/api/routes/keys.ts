// The bundle-signing keys. GET /keys is public, mounted before operator authentication (see app.ts): agents
// fetch the keys on first start and check the fingerprint themselves. Rotate and retire (admin) issue a
// signed trust update (SPEC §6.6) and give it to every device in a new desired state revision.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import type { Services } from '../app-env.ts';
import type { TrustChange as TrustChangeResult } from '../../delivery/key-ring.ts';
import type { FleetServices } from './fleet-services.ts';
import { KeyList, TrustChange } from '../schemas/keys.ts';
import { respond } from '../schemas/respond.ts';

const Threshold = z
  .object({
    threshold: z.number().int().min(1).max(16).optional().openapi({
      description:
        'Signatures by the new key set the NEXT trust update needs (default: the current threshold). Keep 2 or more once two keys exist, so one leaked key cannot rewrite trust',
    }),
  })
  .strict();

/** The trusted keys as the API lists them (whether the server holds a secret is not for the public). */
const listed = (f: FleetServices) =>
  f.keys.list().map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, file: k.file, fingerprint: k.fingerprint, active: k.active }));

/** GET /keys: public. */
export function keyRoutes(f: FleetServices) {
  return routeApp([]).openapi(
    route(
      'get',
      '/keys',
      'Trusted bundle signing keys with fingerprints, the active signer and the trust version; no token needed',
      {},
      respond(200, 'keys', KeyList),
    ),
    async (c) => {
      await f.keys.refresh();
      return c.json(
        { version: f.keys.version, threshold: f.keys.threshold, active: f.keys.active().keyId, keys: listed(f), trust: f.keys.trust() },
        200,
      );
    },
  );
}

/** Rotate and retire: admin, after authentication. */
export function keyAdminRoutes(f: FleetServices) {
  const app = routeApp([{ role: 'admin', methods: ['POST'], paths: ['/keys/*'] }]);
  const after = async (audit: Services['store']['audit'], actor: string, action: string, change: TrustChangeResult) => {
    await audit.record({
      actor,
      action,
      subject: change.keyId,
      detail: { version: change.version, threshold: change.threshold, active: change.active },
    });
    // Every device's next desired state revision carries the update; agents check it before any bundle.
    const devices = await f.delivery.publishTrust({ actor });
    return { ...change, devices, keys: listed(f) };
  };
  return app
    .openapi(
      route(
        'post',
        '/keys/rotate',
        'Make a new signing key: trust version+1 = current keys + the new one, signed by the current keys; the new key signs bundles from now on',
        { body: Threshold },
        respond(200, 'rotated', TrustChange),
      ),
      async (c) => {
        const b = c.req.valid('json');
        await f.keys.refresh();
        const change = await f.keys.rotate({ threshold: b.threshold });
        return c.json(await after(c.get('services').store.audit, c.get('actor').id, 'key.rotate', change), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/keys/{id}/retire',
        'Stop trusting a key: trust version+1 without it, signed by the remaining keys (not the active signer, not the last key)',
        {
          params: z.object({ id: z.string().max(80).openapi({ description: 'Key id (16 hex) or SHA256: fingerprint' }) }),
          body: Threshold,
        },
        respond(200, 'retired', TrustChange),
      ),
      async (c) => {
        const b = c.req.valid('json');
        await f.keys.refresh();
        const change = await f.keys.retire(c.req.valid('param').id, { threshold: b.threshold });
        return c.json(await after(c.get('services').store.audit, c.get('actor').id, 'key.retire', change), 200);
      },
    );
}
