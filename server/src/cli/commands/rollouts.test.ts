// `flotilla rollout ...` against a real HTTP server running the rollout routes.
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppEnv } from '../../api/app-env.ts';
import { handleError } from '../../api/errors.ts';
import { registerRolloutCommands } from './rollouts.ts';
import { rig, scratch, type Rig } from '@flotilla/test/support/rollout-test-kit';
import { rolloutRoutes } from '../../api/routes/rollouts.ts';

const tmp = scratch();
let r: Rig;
let server: ReturnType<typeof serve>;
let url = '';

beforeAll(async () => {
  r = rig(tmp.open('cli'));
  r.fleet.add(20);
  const app = new OpenAPIHono<AppEnv>();
  app.onError(handleError);
  app.use('*', async (c, next) => {
    c.set('actor', { id: 'tok_cli', name: 'cli', role: 'operator' });
    await next();
  });
  app.route('/api/v1', rolloutRoutes({ engine: r.engine }));
  await new Promise<void>((res) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => res());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(tmp.path('token'), 'flt_test\n', { mode: 0o600 });
});
afterAll(async () => {
  await new Promise<void>((res) => server.close(() => res()));
  await r.store.close();
  tmp.cleanup();
});

/** Runs `flotilla rollout ...args` and returns what it printed, or the error it failed with. */
async function flotilla(...args: string[]): Promise<{ out: string; error?: { code: string; exit: number } }> {
  const program = new Command('flotilla').exitOverride();
  registerRolloutCommands(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'flotilla', 'rollout', ...args, '--server', url, '--token-file', tmp.path('token')], {
      from: 'node',
    });
    return { out };
  } catch (e) {
    return { out, error: { code: (e as { code: string }).code, exit: (e as { exit: number }).exit } };
  } finally {
    spy.mockRestore();
  }
}

describe('flotilla rollout', () => {
  it('create --json prints the id; status --json its state and per-state counts; actions are audited', async () => {
    const created = await flotilla(
      'create',
      '--model',
      'digits@2',
      '--target',
      'tag=car',
      '--stages',
      '10,50,100',
      '--bake',
      '1m',
      '--gate',
      'maxErrorRate=0.01',
      '--json',
    );
    const { id, stages } = JSON.parse(created.out);
    expect(id).toMatch(/^ro_/);
    expect(stages.map((s: any) => [s.percent, s.bakeSec, s.gates.maxErrorRate])).toEqual([
      [10, 60, 0.01],
      [50, 60, 0.01],
      [100, 60, 0.01],
    ]);
    const status = JSON.parse((await flotilla('status', id, '--json')).out);
    expect([status.state, status.counts]).toEqual(['running', { notified: 2, planned: 18 }]);
    expect(JSON.parse((await flotilla('pause', id, '--reason', 'look at drift', '--json')).out).state).toBe('paused');
    const events = JSON.parse((await flotilla('events', id, '--json')).out).events;
    expect(events.at(-1)).toMatchObject({ kind: 'pause', actor: 'tok_cli', reason: 'look at drift' });
    expect((await flotilla('status', id)).out).toContain(`${id}  paused  digits@1.0.2  stage 1/3  target tag=car`);
    expect(JSON.parse((await flotilla('list', '--json')).out).rollouts.map((x: any) => x.id)).toContain(id);
    await flotilla('abort', id, '--reason', 'done');
    const watched = await flotilla('status', id, '--watch', '--json');
    expect(JSON.parse(watched.out.trim().split('\n').at(-1)!).state).toBe('aborted');
  });

  it('maps bad flags to usage errors and server refusals to their codes', async () => {
    expect((await flotilla('create', '--model', 'digits@2', '--target', 'colour=red')).error).toEqual({ code: 'USAGE', exit: 2 });
    expect((await flotilla('create', '--model', 'digits@2', '--target', 'tag=car', '--stages', 'half')).error).toEqual({
      code: 'USAGE',
      exit: 2,
    });
    expect((await flotilla('create', '--target', 'tag=car')).error).toEqual({ code: 'USAGE', exit: 2 });
    expect((await flotilla('create', '--model', 'digits@2', '--target', 'tag=boat')).error).toEqual({
      code: 'NO_MATCHING_DEVICES',
      exit: 6,
    });
    expect((await flotilla('status', 'ro_nope')).error).toEqual({ code: 'ROLLOUT_NOT_FOUND', exit: 5 });
    expect((await flotilla('pause', 'ro_nope')).error?.code).toBe('commander.missingMandatoryOptionValue');
  });

  it('resume judges the gates again and says what they found; status says what a waiting gate still needs', async () => {
    r.health.override = () => ({ errorRate: 0.3 });
    const { id } = JSON.parse(
      (await flotilla('create', '--model', 'digits@3', '--target', 'tag=car', '--stages', '100', '--bake', '0', '--json')).out,
    );
    expect(JSON.parse((await flotilla('status', id, '--json')).out).state).toBe('paused');
    expect((await flotilla('resume', id, '--reason', 'try again')).out).toContain(
      `resume: ${id} is paused again: the gates still say FAIL maxErrorRate=0.3`,
    );
    r.health.override = () => ({ requests: 3, errors: 0 });
    const waiting = (await flotilla('resume', id, '--reason', "the bad input was the client's")).out;
    expect(waiting).toContain(`resume: ${id} is running\n`);
    expect(waiting).toContain('waiting: 3 of 50 requests');
    r.health.override = () => ({});
    await flotilla('abort', id, '--reason', 'done');
  });

  it('previews a target', async () => {
    const p = JSON.parse((await flotilla('preview', '--target', 'tag=car', '--stages', '10,100', '--json')).out);
    expect(p).toEqual({ matching: 20, online: 20, stageSizes: [2, 18], held: 0 });
  });
});
