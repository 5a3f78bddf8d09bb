// Signed bundles made from registered model versions: create, list, show.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import type { CreateBundleInput } from '../../delivery/bundle-service.ts';
import { DeliveryError } from '../../delivery/delivery-error.ts';
import { limitBody, type FleetServices } from './fleet-services.ts';
import { Bundle, BundleWithManifest } from '../schemas/fleet.ts';
import { respond } from '../schemas/respond.ts';

const Extra = z.unknown().optional();
const CreateBundle = z
  .object({
    model: z.string().min(1).max(200).openapi({ description: 'name@version, name@alias, or name (latest)', example: 'digits@3' }),
    version: z.string().max(64).optional().openapi({ description: 'semantic version for the manifest; default <registry version>.0.0' }),
    artifact: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'default model.int8.onnx when present and smaller and not slower than model.onnx, else model.onnx' }),
    expiresInSeconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 24 * 3600)
      .optional(),
    avgChunkSize: z.number().int().min(256).max(262_144).optional(),
    labels: z.array(z.string().max(200)).max(10_000).optional(),
    executionProviders: z
      .array(z.enum(['cpu', 'webgpu', 'wasm']))
      .min(1)
      .max(8)
      .optional()
      .openapi({
        description: 'providers the bundle allows, in preference order; list webgpu to let agents offered a GPU probe it',
        example: ['cpu', 'webgpu'],
      }),
    preprocessing: Extra,
    selfTests: Extra,
    referenceProfile: Extra,
    runtime: Extra,
    quantization: Extra,
    signature: Extra,
  })
  .strict();

export function bundleRoutes(f: FleetServices) {
  const app = routeApp([{ role: 'operator', methods: ['POST'], paths: ['/bundles'] }]);
  app.post('/bundles', limitBody(8 * 1024 * 1024));
  /** The bundle `id` names, or the 404 that says how ids are written. */
  const bundleOr404 = async (id: string) => {
    const b = await f.bundles.get(id);
    if (!b)
      throw new DeliveryError(
        'BUNDLE_NOT_FOUND',
        `bundle '${id}' was not found (ids are hex; prefixes need 8+ characters and must be unique)`,
      );
    return b;
  };
  return app
    .openapi(
      route(
        'post',
        '/bundles',
        "Make a signed, chunked bundle from a model version's ONNX artifact",
        { body: CreateBundle },
        respond(201, 'created', Bundle),
      ),
      async (c) => c.json(await f.bundles.create(c.req.valid('json') as CreateBundleInput, c.get('actor').id), 201),
    )
    .openapi(
      route(
        'get',
        '/bundles',
        'Bundles, newest first',
        { query: z.object({ model: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }) },
        respond(200, 'bundles', z.object({ bundles: z.array(Bundle) })),
      ),
      async (c) => c.json({ bundles: await f.bundles.list(c.req.valid('query')) }, 200),
    )
    .openapi(
      route(
        'get',
        '/bundles/{id}',
        'One bundle by id (or a unique prefix of 8+ hex characters)',
        { params: z.object({ id: z.string() }) },
        respond(200, 'bundle', Bundle),
      ),
      async (c) => c.json(await bundleOr404(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'get',
        '/bundles/{id}/manifest',
        'A bundle and its signed manifest: input/output signature, labels, preprocessing, self-tests (what /v1/predict on a device takes)',
        { params: z.object({ id: z.string() }) },
        respond(200, 'bundle and manifest', BundleWithManifest),
      ),
      async (c) => {
        const b = await bundleOr404(c.req.valid('param').id);
        return c.json({ bundle: b, manifest: (await f.bundles.manifest(b)) as unknown as Record<string, unknown> }, 200);
      },
    );
}
