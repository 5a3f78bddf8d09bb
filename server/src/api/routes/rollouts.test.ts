// The rollout routes over HTTP semantics: roles, status codes, error codes, and the OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppEnv } from '../app-env.ts';
import { handleError } from '../errors.ts';
import type { Role } from '../../store/entities.ts';
import { request, rig, scratch, type Rig } from '@flotilla/test/support/rollout-test-kit';
import { rolloutRoutes } from './rollouts.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

let r: Rig;
let app: OpenAPIHono<AppEnv>;
beforeEach(() => {
  r = rig(tmp.open('routes'));
  r.fleet.add(20);
  r.fleet.add(5, { tags: ['car'], online: false }, 'off');
  app = new OpenAPIHono<AppEnv>();
  app.onError(handleError);
  app.use('*', async (c, next) => {
    const role = (c.req.header('x-role') ?? 'operator') as Role;
    c.set('actor', { id: `tok_${role}`, name: role, role });
    await next();
  });
  app.route('/api/v1', rolloutRoutes({ engine: r.engine }));
});

const call = async (method: string, path: string, body?: unknown, role: Role = 'operator') => {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: { 'x-role': role, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('rollout routes', () => {
  it('create, status with per-state counts, list, device timeline, events', async () => {
    const created = await call('POST', '/rollouts', request([10, 50, 100], { reason: 'v2' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(id).toMatch(/^ro_/);
    const st = await call('GET', `/rollouts/${id}`, undefined, 'viewer');
    expect([st.status, st.body.state, st.body.counts]).toEqual([200, 'running', { notified: 3, planned: 22 }]);
    expect(st.body.stages.map((s: any) => [s.percent, s.state, s.devices])).toEqual([
      [10, 'active', 3],
      [50, 'pending', 10],
      [100, 'pending', 12],
    ]);
    expect(st.body.actions).toEqual(['pause', 'advance', 'abort', 'rollback']);
    const list = await call('GET', '/rollouts?state=running', undefined, 'viewer');
    expect(list.body.rollouts.map((x: any) => x.id)).toEqual([id]);
    expect((await call('GET', '/rollouts?state=completed', undefined, 'viewer')).body.rollouts).toEqual([]);
    const canary = (await call('GET', `/rollouts/${id}/devices?stage=0`, undefined, 'viewer')).body.devices;
    expect(canary.length).toBe(3);
    const tl = await call('GET', `/rollouts/${id}/devices/${canary[0].deviceId}`, undefined, 'viewer');
    expect(tl.body.timeline.map((e: any) => e.kind)).toEqual(['planned', 'notified']);
    expect((await call('GET', `/rollouts/${id}/events`, undefined, 'viewer')).body.events.map((e: any) => e.kind)).toEqual([
      'created',
      'start',
    ]);
  });

  it('operator actions need a reason and the operator role, and are attributed to the caller', async () => {
    const {
      body: { id },
    } = await call('POST', '/rollouts', request([10, 100]));
    expect((await call('POST', `/rollouts/${id}/pause`, { reason: 'x' }, 'viewer')).status).toBe(403);
    expect((await call('POST', '/rollouts', request([100]), 'viewer')).body.error.code).toBe('FORBIDDEN');
    expect((await call('POST', `/rollouts/${id}/pause`, {})).body.error.code).toBe('VALIDATION_FAILED');
    expect((await call('POST', `/rollouts/${id}/explode`, { reason: 'x' })).status).toBe(400);
    const paused = await call('POST', `/rollouts/${id}/pause`, { reason: 'checking drift' }, 'admin');
    expect([paused.status, paused.body.state]).toEqual([200, 'paused']);
    const ev = (await call('GET', `/rollouts/${id}/events`)).body.events.at(-1);
    expect([ev.kind, ev.actor, ev.reason]).toEqual(['pause', 'tok_admin', 'checking drift']);
    const again = await call('POST', `/rollouts/${id}/pause`, { reason: 'twice' });
    expect([again.status, again.body.error.code]).toEqual([409, 'ILLEGAL_TRANSITION']);
  });

  it('answers errors with stable codes', async () => {
    const {
      body: { id },
    } = await call('POST', '/rollouts', request([100]));
    expect((await call('GET', '/rollouts/ro_missing')).body.error.code).toBe('ROLLOUT_NOT_FOUND');
    expect((await call('GET', `/rollouts/${id}/devices/nobody`)).body.error.code).toBe('DEVICE_NOT_IN_ROLLOUT');
    expect((await call('POST', '/rollouts', { ...request([100]), stages: [{ percent: 500 }] })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await call('POST', '/rollouts', request([100], { model: 'missing@1' }))).status).toBe(404);
    const conflict = await call('POST', '/rollouts', request([100]));
    expect([conflict.status, conflict.body.error.code]).toEqual([409, 'ROLLOUT_CONFLICT']);
    expect((await call('POST', '/rollouts', request([100], { target: { tags: ['boat'] } }))).body.error.code).toBe('NO_MATCHING_DEVICES');
  });

  it('previews a target for the wizard, and an existing rollout against the fleet now', async () => {
    const p = await call(
      'GET',
      `/rollouts/preview?target=${encodeURIComponent('tag=car')}&stages=10,50,100&model=digits`,
      undefined,
      'viewer',
    );
    expect(p.body).toEqual({ matching: 25, online: 20, stageSizes: [3, 10, 12], held: 0 });
    expect((await call('GET', '/rollouts/preview?target=colour%3Dred', undefined, 'viewer')).body.error.code).toBe('INVALID_ROLLOUT');
    const {
      body: { id },
    } = await call('POST', '/rollouts', request([100], { policy: { includeLateJoiners: false } }));
    r.fleet.add(2);
    expect((await call('GET', `/rollouts/${id}/preview`, undefined, 'viewer')).body).toMatchObject({
      matching: 27,
      inRollout: 25,
      notYetIncluded: 2,
    });
    expect((await call('GET', '/rollouts/preview?target=tag%3Dcar&model=digits')).body.held).toBe(25);
  });

  it('describes every route in the OpenAPI document', () => {
    const doc = app.getOpenAPIDocument({ openapi: '3.0.3', info: { title: 't', version: '1' } });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      '/api/v1/rollouts',
      '/api/v1/rollouts/preview',
      '/api/v1/rollouts/{id}',
      '/api/v1/rollouts/{id}/devices',
      '/api/v1/rollouts/{id}/devices/{deviceId}',
      '/api/v1/rollouts/{id}/events',
      '/api/v1/rollouts/{id}/preview',
      '/api/v1/rollouts/{id}/retry',
      '/api/v1/rollouts/{id}/{action}',
    ]);
  });
});
