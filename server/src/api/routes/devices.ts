// Device provisioning and inspection: add (one), import (CSV), list (paged, filtered), show,
// relabel, revoke, and desired state (one device or many).
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { DEVICE_ID } from '@flotilla/firmware-bundler/wire';
import { badRequest } from '../api-error.ts';
import { limitBody, type FleetServices } from './fleet-services.ts';
import { DesiredState, Device, DevicePage, DeviceView, ImportLine, ImportResult, Provisioned, SetDesiredResult } from '../schemas/fleet.ts';
import { respond } from '../schemas/respond.ts';
import { NDJSON, streamImport } from './import-stream.ts';

const Label = z.string().min(1).max(64);
const DeviceId = z.string().regex(DEVICE_ID, 'device ids match [A-Za-z0-9][A-Za-z0-9_-]{0,63} [WIRE-1.2]');
const NewDevice = z
  .object({
    id: DeviceId.optional().openapi({ description: 'Default: generated (dev-xxxxxxxxxxxx)', example: 'car-0001' }),
    name: z.string().max(200).optional(),
    tags: z
      .array(Label)
      .max(64)
      .optional()
      .openapi({ example: ['car', 'eu'] }),
    groups: z
      .array(Label)
      .max(64)
      .optional()
      .openapi({ example: ['canary'] }),
    attributes: z.record(z.string().max(64), z.string().max(1000)).optional(),
  })
  .strict();
const Desired = z
  .object({
    bundle: z
      .string()
      .min(8)
      .max(64)
      .nullable()
      .openapi({ description: 'Bundle id (or unique prefix of 8+ hex), or null to keep what runs' }),
    rollback: z.boolean().optional().openapi({ description: 'Operator-ordered return to an older bundle [WIRE-2.2]' }),
  })
  .strict();

const DeviceQuery = z.object({
  tag: z.string().optional(),
  group: z.string().optional(),
  online: z.enum(['true', 'false']).optional(),
  model: z.string().optional().openapi({ description: 'name@version as reported, or "none"' }),
  state: z.string().optional().openapi({ description: 'reported deployment state [WIRE-4.1]' }),
  revoked: z.enum(['true', 'false']).optional(),
  after: z.string().optional().openapi({ description: 'cursor: the `next` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const Relabel = z
  .object({
    name: z.string().max(200).optional(),
    addTags: z.array(Label).max(64).optional(),
    removeTags: z.array(Label).max(64).optional(),
    addGroups: z.array(Label).max(64).optional(),
    removeGroups: z.array(Label).max(64).optional(),
  })
  .strict();

export function deviceRoutes(f: FleetServices) {
  const app = routeApp([{ role: 'operator', methods: ['POST', 'PUT', 'PATCH'], paths: ['/devices', '/devices/*'] }]);
  const importLimit = limitBody(32 * 1024 * 1024);
  const jsonLimit = limitBody(1024 * 1024);
  app.on(['POST', 'PUT', 'PATCH'], ['/devices', '/devices/*'], (c, next) =>
    (c.req.path.endsWith('/devices/import') ? importLimit : jsonLimit)(c, next),
  );
  return app
    .openapi(
      route(
        'post',
        '/devices',
        'Provision a device: returns its id and token (the token is shown once)',
        { body: NewDevice },
        respond(201, 'provisioned', Provisioned),
      ),
      async (c) => {
        const [p] = await f.devices.provision([c.req.valid('json')], c.get('actor').id);
        return c.json(p!, 201);
      },
    )
    .openapi(
      route(
        'post',
        '/devices/import',
        'Provision many devices from a CSV body (text/csv): columns id, name, tags, groups (";"-separated), any other column is an attribute. ' +
          'All or none: written 500 per transaction, and a failed batch deletes the ones before it. With Accept: application/x-ndjson, ' +
          'progress lines follow as batches commit (200), then the result or the error.',
        {},
        {
          ...respond(201, 'provisioned', ImportResult),
          200: {
            description: 'NDJSON: progress lines, then a done or an error line',
            // A media type typed as plain `string` makes the handler's type a plain Response for this status: the typed
            // client cannot follow NDJSON lines, while the document still names the type and the line schema.
            content: { [NDJSON as string]: { schema: ImportLine } },
          },
        },
      ),
      async (c) => {
        const text = await c.req.text();
        const actor = c.get('actor').id;
        const result = (made: { id: string; token: string }[]) => ({
          count: made.length,
          devices: made.map((p) => ({ id: p.id, token: p.token })),
        });
        if (!(c.req.header('accept') ?? '').includes(NDJSON)) return c.json(result(await f.devices.importCsv(text, actor)), 201);
        return await streamImport(c, (onProgress) => f.devices.importCsv(text, actor, onProgress).then(result));
      },
    )
    .openapi(
      route(
        'get',
        '/devices',
        'List devices, paged by id; filter by tag, group, online, reported model version and state',
        { query: DeviceQuery },
        respond(200, 'a page', DevicePage),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const filter = {
          tag: q.tag,
          group: q.group,
          online: q.online === undefined ? undefined : q.online === 'true',
          modelVersion: q.model,
          deployState: q.state,
          revoked: q.revoked === 'true',
        };
        const page = await f.devices.list({ ...filter, after: q.after, limit: q.limit });
        const total = await f.devices.countMatching(filter);
        return c.json({ ...page, total }, 200);
      },
    )
    .openapi(
      route(
        'post',
        '/devices/desired',
        'Set the desired bundle of many devices at once',
        { body: Desired.extend({ devices: z.array(DeviceId).min(1).max(10_000) }).strict() },
        respond(200, 'updated', SetDesiredResult),
      ),
      async (c) => {
        const b = c.req.valid('json');
        return c.json(await f.delivery.setDesired(b.devices, b.bundle, { rollback: b.rollback, actor: c.get('actor').id }), 200);
      },
    )
    .openapi(
      route(
        'get',
        '/devices/{id}',
        'One device: labels, presence, reported and desired state, refusal counters, recent events',
        { params: z.object({ id: z.string() }), query: z.object({ events: z.coerce.number().int().min(0).max(500).optional() }) },
        respond(200, 'device', DeviceView),
      ),
      async (c) => c.json(await f.devices.show(c.req.valid('param').id, c.req.valid('query').events), 200),
    )
    .openapi(
      route(
        'patch',
        '/devices/{id}',
        'Rename, add or remove tags and groups',
        { params: z.object({ id: z.string() }), body: Relabel },
        respond(200, 'updated', Device),
      ),
      async (c) => c.json(await f.devices.relabel(c.req.valid('param').id, c.req.valid('json'), c.get('actor').id), 200),
    )
    .openapi(
      route(
        'post',
        '/devices/{id}/revoke',
        'Revoke a device: disconnected at once, and it cannot reconnect',
        { params: z.object({ id: z.string() }), body: z.object({ reason: z.string().max(500).optional() }).strict(), optionalBody: true },
        respond(200, 'revoked', Device),
      ),
      async (c) => {
        const body = (c.req.valid('json') ?? {}) as { reason?: string };
        return c.json(await f.devices.revoke(c.req.valid('param').id, c.get('actor').id, body.reason), 200);
      },
    )
    .openapi(
      route(
        'put',
        '/devices/{id}/desired',
        'Set the bundle the device should run (published retained, QoS 1) [WIRE-2.2]',
        { params: z.object({ id: z.string() }), body: Desired },
        respond(200, 'the published desired state', DesiredState),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const b = c.req.valid('json');
        const r = await f.delivery.setDesired([id], b.bundle, { rollback: b.rollback, actor: c.get('actor').id });
        if (r.updated.length === 0) await f.devices.show(id); // unknown → DEVICE_NOT_FOUND; revoked → below
        if (r.updated.length === 0) throw badRequest('DEVICE_REVOKED', `device '${id}' is revoked`);
        const d = await f.devices.show(id, 0);
        return c.json({ desired: d.desired, desiredRev: d.desiredRev }, 200);
      },
    );
}
