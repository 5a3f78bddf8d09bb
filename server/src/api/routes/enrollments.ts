// Identity routes for operators: enrollments (create, list, show, revoke) and credential rotation.
// The device side, POST /enroll with a claim, is in enroll.ts (mounted before operator authentication).
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { DEVICE_ID } from '@flotilla/firmware-bundler/wire';
import { badRequest } from '../api-error.ts';
import type { FleetServices } from './fleet-services.ts';
import { CreatedEnrollment, Enrollment, EnrollmentList, RotationResult } from '../schemas/identity.ts';
import { respond } from '../schemas/respond.ts';

const Label = z.string().min(1).max(64);
const NewEnrollment = z
  .object({
    name: z.string().min(1).max(64).openapi({ example: 'factory-a' }),
    quota: z.number().int().min(1).max(1_000_000),
    expiresInSec: z
      .number()
      .int()
      .min(1)
      .max(10 * 365 * 86_400)
      .openapi({ description: 'Lifetime of the claim', example: 30 * 86_400 }),
    tags: z.array(Label).max(32).optional(),
    groups: z.array(Label).max(32).optional(),
    attributes: z.record(z.string().max(64), z.string().max(256)).optional(),
    serialPattern: z.string().max(128).nullable().optional().openapi({ description: 'Glob a serial must match (* and ?), e.g. CAR-*' }),
    allowReenroll: z.boolean().optional().openapi({ description: 'A known serial may enroll again with a new key (a replaced board)' }),
  })
  .strict();
const Rotate = z
  .object({
    ids: z.array(z.string().regex(DEVICE_ID)).min(1).max(100_000).optional(),
    all: z.boolean().optional(),
    tag: Label.optional(),
    group: Label.optional(),
    overlapSec: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional()
      .openapi({ description: 'How long the old token stays valid (default one day)' }),
  })
  .strict();

export function enrollmentRoutes(f: FleetServices) {
  return routeApp([{ role: 'operator', methods: ['POST'], paths: ['/enrollments', '/enrollments/*', '/devices/rotate'] }])
    .openapi(
      route(
        'post',
        '/enrollments',
        'Create an enrollment: a claim devices use once to get their own identity (the claim is shown once)',
        { body: NewEnrollment },
        respond(201, 'created', CreatedEnrollment),
      ),
      async (c) => {
        const b = c.req.valid('json');
        const made = await f.enrollments.create({ ...b, expiresInMs: b.expiresInSec * 1000 }, c.get('actor').id);
        return c.json(made, 201);
      },
    )
    .openapi(route('get', '/enrollments', 'List enrollments, newest first', {}, respond(200, 'enrollments', EnrollmentList)), async (c) =>
      c.json({ enrollments: await f.enrollments.list() }, 200),
    )
    .openapi(
      route(
        'get',
        '/enrollments/{id}',
        'One enrollment, by id or name',
        { params: z.object({ id: z.string().max(64) }) },
        respond(200, 'the enrollment', Enrollment),
      ),
      async (c) => c.json(await f.enrollments.show(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'post',
        '/enrollments/{id}/revoke',
        'Stop a claim from enrolling anything more (enrolled devices keep working)',
        { params: z.object({ id: z.string().max(64) }) },
        respond(200, 'revoked', Enrollment),
      ),
      async (c) => c.json(await f.enrollments.revoke(c.req.valid('param').id, c.get('actor').id), 200),
    )
    .openapi(
      route(
        'post',
        '/devices/rotate',
        'Rotate device tokens [WIRE-2.11]: connected devices get their new token at once; the old one is accepted for the overlap window',
        { body: Rotate },
        respond(200, 'rotated', RotationResult),
      ),
      async (c) => {
        const b = c.req.valid('json');
        const chosen = [b.ids !== undefined, b.all === true, b.tag !== undefined || b.group !== undefined].filter(Boolean).length;
        if (chosen !== 1) throw badRequest('ROTATE_TARGET_INVALID', 'choose the devices with exactly one of: ids, all: true, tag/group');
        const overlapMs = b.overlapSec === undefined ? undefined : b.overlapSec * 1000;
        const r = await f.devices.rotate(b.ids ? { ids: b.ids } : { filter: { tag: b.tag, group: b.group } }, c.get('actor').id, overlapMs);
        return c.json(r, 200);
      },
    );
}
