// HTTP routes for rollouts: create, list, status with per-state counts, device timelines, previews and
// operator actions. Viewers read; operators act. Mounted under /api/v1 by the API app.
import { z } from '@hono/zod-openapi';
import { route, routeApp, type Guard } from '../route.ts';
import { validationHook } from '../errors.ts';
import { ROLLOUT_DEVICE_STATES } from '../../rollouts/device-state.ts';
import { OPERATOR_ACTIONS, type RolloutEngine } from '../../rollouts/rollout-engine.ts';
import { ROLLOUT_STATES } from '../../rollouts/rollout-machine.ts';
import { parseStagesShorthand, RolloutRequest } from '../../rollouts/rollout-spec.ts';
import { parseTargetShorthand } from '../../rollouts/target.ts';
import { respond } from '../schemas/respond.ts';
import {
  Rollout,
  RolloutDevice,
  RolloutDeviceDetail,
  RolloutEvent,
  RolloutPreview,
  RolloutRetryResult,
  RolloutStatus,
  TargetPreview,
} from '../schemas/rollouts.ts';

export interface RolloutRouteDeps {
  engine: RolloutEngine;
}

const json = <T extends z.ZodType>(description: string, schema: T) => respond(200, description, schema);
const Id = z.object({ id: z.string().min(1).max(64) });

export function rolloutRoutes(deps: RolloutRouteDeps) {
  const { engine } = deps;
  const guards: Guard[] = [
    { role: 'viewer', methods: ['GET'], paths: ['/rollouts', '/rollouts/*'] },
    { role: 'operator', methods: ['POST'], paths: ['/rollouts', '/rollouts/*'] },
  ];
  return routeApp(guards, { defaultHook: validationHook })
    .openapi(
      route(
        'get',
        '/rollouts/preview',
        'Live count of devices a target matches, and how stages would split them (console wizard)',
        {
          query: z.object({
            target: z.string().min(1).max(2000),
            stages: z.string().max(200).optional(),
            model: z.string().max(128).optional(),
          }),
        },
        json('preview', TargetPreview),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const stages = q.stages ? parseStagesShorthand(q.stages) : undefined;
        return c.json(
          await engine.preview(parseTargetShorthand(q.target), { ...(stages ? { stages } : {}), ...(q.model ? { model: q.model } : {}) }),
          200,
        );
      },
    )
    .openapi(
      route(
        'post',
        '/rollouts',
        'Create a rollout (starts it unless draft); refuses devices another active rollout of the model holds, unless supersede',
        { body: RolloutRequest },
        respond(201, 'created', RolloutStatus),
      ),
      async (c) => c.json(await engine.create(c.req.valid('json'), c.get('actor').id), 201),
    )
    .openapi(
      route(
        'get',
        '/rollouts',
        'Rollouts, newest first',
        {
          query: z.object({
            state: z.enum(ROLLOUT_STATES).optional(),
            model: z.string().max(128).optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
        },
        json('rollouts', z.object({ rollouts: z.array(Rollout) })),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const list = await engine.list({
          ...(q.state ? { states: [q.state] } : {}),
          ...(q.model ? { model: q.model } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        });
        return c.json({ rollouts: list.map(({ runtime: _r, ...rest }) => rest) }, 200);
      },
    )
    .openapi(
      route(
        'get',
        '/rollouts/{id}',
        'State, stages with per-state device counts and gate verdicts',
        { params: Id },
        json('status', RolloutStatus),
      ),
      async (c) => c.json(await engine.statusOf(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'get',
        '/rollouts/{id}/events',
        'State changes, gate verdicts and operator actions (who, when, why), oldest first',
        { params: Id },
        json('events', z.object({ events: z.array(RolloutEvent) })),
      ),
      async (c) => c.json({ events: await engine.events(c.req.valid('param').id) }, 200),
    )
    .openapi(
      route(
        'get',
        '/rollouts/{id}/preview',
        "The rollout's target against the fleet now: matching devices and those not yet included",
        { params: Id },
        json('preview', RolloutPreview),
      ),
      async (c) => c.json(await engine.previewRollout(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'get',
        '/rollouts/{id}/devices',
        "The rollout's devices in notification order, by stage and state",
        {
          params: Id,
          query: z.object({ stage: z.coerce.number().int().min(0).optional(), state: z.enum(ROLLOUT_DEVICE_STATES).optional() }),
        },
        json('devices', z.object({ devices: z.array(RolloutDevice) })),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const q = c.req.valid('query');
        await engine.get(id);
        const devices = await engine.devices(id, {
          ...(q.stage !== undefined ? { stage: q.stage } : {}),
          ...(q.state ? { states: [q.state] } : {}),
        });
        return c.json({ devices }, 200);
      },
    )
    .openapi(
      route(
        'get',
        '/rollouts/{id}/devices/{deviceId}',
        'One device in the rollout: stage, state and timeline of every status event',
        { params: z.object({ id: z.string().min(1).max(64), deviceId: z.string().min(1).max(128) }) },
        json('timeline', RolloutDeviceDetail),
      ),
      async (c) => {
        const { id, deviceId } = c.req.valid('param');
        return c.json(await engine.timeline(id, deviceId), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/rollouts/{id}/retry',
        'Retry the failed devices of a stage: their desired state goes out again with a new retry nonce (audited)',
        { params: Id, body: z.object({ stage: z.number().int().min(0).max(19), reason: z.string().min(1).max(500) }) },
        json('status after the retry, with how many devices were retried', RolloutRetryResult),
      ),
      async (c) => {
        const { stage, reason } = c.req.valid('json');
        return c.json(await engine.retry(c.req.valid('param').id, stage, c.get('actor').id, reason), 200);
      },
    )
    .openapi(
      route(
        'post',
        '/rollouts/{id}/{action}',
        'Operator action: start, pause, resume, advance, abort or rollback (audited with who and why)',
        {
          params: z.object({ id: z.string().min(1).max(64), action: z.enum(OPERATOR_ACTIONS as [string, ...string[]]) }),
          body: z.object({ reason: z.string().min(1).max(500) }),
        },
        json('status after the action', RolloutStatus),
      ),
      async (c) => {
        const { id, action } = c.req.valid('param');
        const { reason } = c.req.valid('json');
        return c.json(await engine.act(id, action as (typeof OPERATOR_ACTIONS)[number], c.get('actor').id, reason), 200);
      },
    );
}
