// The monitoring routes through Hono: series, drift, alerts with roles and error codes, and the SSE stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../app-env.ts';
import { handleError, validationHook } from '../errors.ts';
import type { Role } from '../../store/entities.ts';
import { openDb } from '../../store/sqlite/db.ts';
import { MonitoringService } from '../../monitoring/monitoring-service.ts';
import { monitoringRoutes } from './monitoring.ts';
import { SqliteTelemetryStore } from '../../store/sqlite/sqlite-telemetry-store.ts';
import { seededRandom } from '../../random/seeded-random.ts';
import { simulatedReference, simulateWindow } from '../../monitoring/telemetry-sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-monitoring-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.parse('2026-03-01T10:00:00Z');
let files = 0;

async function setup() {
  const db = openDb(join(dir, `api${files++}.db`));
  const monitoring = await MonitoringService.open({ store: new SqliteTelemetryStore(db), now: () => T0 + 3_600_000 });
  const rng = seededRandom(21);
  const sim = simulatedReference(rng, 2);
  await monitoring.setReference('cam@1.0.0', { features: sim.features }, sim.labels, {
    predictions: sim.predictions,
    confidence: sim.confidence,
  });
  let seq = 0;
  const ingestRound = (r: number, shift: boolean) =>
    monitoring.ingest(
      ['a', 'b'].map((d) => ({
        deviceId: `dev-${d}`,
        cohorts: ['north'],
        window: simulateWindow(rng, sim, {
          seq: seq++,
          start: new Date(T0 + r * 60_000),
          requests: 300,
          shift: shift ? { features: ['f0'], fraction: 0.5 } : undefined,
        }),
      })),
    );
  // The real app authenticates first; here a header picks the caller's role.
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError);
  app.use('*', async (c, next) => {
    c.set('actor', { id: 'tok_test', name: 'test', role: (c.req.header('x-role') ?? 'viewer') as Role });
    await next();
  });
  app.route('/api/v1', monitoringRoutes({ monitoring }));
  return {
    app,
    monitoring,
    ingestRound,
    close: async () => {
      await monitoring.close();
      db.close();
    },
  };
}

describe('monitoring routes', () => {
  it('series, drift and alerts, with roles and stable error codes', async () => {
    const s = await setup();
    await s.ingestRound(0, false);
    const from = new Date(T0).toISOString();
    const series = await (
      await s.app.request(`/api/v1/monitoring/series?scope=cohort&id=north&metrics=requests,drift&from=${from}&to=${T0 + 3_600_000}`)
    ).json();
    expect(series).toMatchObject({ scope: 'cohort', id: 'north', bucket: 'hour' });
    expect(series.series[0].points[0]).toMatchObject({ windows: 2, requests: 600 });
    expect(Object.keys(series.series[0].points[0].drift).sort()).toEqual(['@confidence', '@prediction', 'f0', 'f1']);
    const bad = await s.app.request('/api/v1/monitoring/series?metrics=nonsense');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('INVALID_QUERY');
    expect((await s.app.request('/api/v1/monitoring/series?bucket=week')).status).toBe(400);

    for (let r = 1; r < 4; r++) await s.ingestRound(r, true);
    const drift = await (await s.app.request('/api/v1/monitoring/drift?cohort=north')).json();
    expect(drift.config.psiAlert).toBe(0.25);
    expect(drift.streams.find((x: { stream: string }) => x.stream === 'f0')).toMatchObject({ alerting: true, level: 'alert' });
    const { alerts } = await (await s.app.request('/api/v1/monitoring/alerts?state=open')).json();
    expect(alerts).toHaveLength(1);
    const id = alerts[0].id;
    expect((await (await s.app.request(`/api/v1/monitoring/alerts/${id}`)).json()).cohort).toBe('north');
    expect((await s.app.request('/api/v1/monitoring/alerts/nope')).status).toBe(404);

    const denied = await s.app.request(`/api/v1/monitoring/alerts/${id}/ack`, { method: 'POST' });
    expect(denied.status).toBe(403);
    const acked = await s.app.request(`/api/v1/monitoring/alerts/${id}/ack`, { method: 'POST', headers: { 'x-role': 'operator' } });
    expect((await acked.json()).acknowledgedBy).toBe('tok_test');
    const resolved = await s.app.request(`/api/v1/monitoring/alerts/${id}/resolve`, { method: 'POST', headers: { 'x-role': 'operator' } });
    expect((await resolved.json()).state).toBe('resolved');
    const again = await s.app.request(`/api/v1/monitoring/alerts/${id}/resolve`, { method: 'POST', headers: { 'x-role': 'operator' } });
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('ALERT_STATE');
    await s.close();
  });

  it('streams alerts and batched windows over SSE for the chosen cohort', async () => {
    const s = await setup();
    for (let r = 0; r < 2; r++) await s.ingestRound(100 + r, false);
    const res = await s.app.request('/api/v1/monitoring/stream?scope=cohort&id=north');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const seen: string[] = [];
    let text = '';
    const readUntil = async (event: string) => {
      while (!seen.includes(event)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
        for (const m of text.matchAll(/^event: (\w+)$/gm)) if (!seen.includes(m[1]!)) seen.push(m[1]!);
      }
    };
    await readUntil('hello');
    for (let r = 2; r < 6; r++) await s.ingestRound(100 + r, true);
    await readUntil('alert');
    await readUntil('windows');
    expect(text).toMatch(/"type":"raised"/);
    expect(text).toMatch(/"count":\d+/);
    await reader.cancel();
    expect((await s.app.request('/api/v1/monitoring/stream?scope=device')).status).toBe(400);
    await s.close();
  });
});
