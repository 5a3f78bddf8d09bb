// Power cuts during updates: the agent is a child process killed with SIGKILL at every step boundary and at
// random moments; after a restart a verified model always serves and the update completes or is rolled back.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, FileStorage } from '@flotilla/edge-agent';
import { loadRecord, readPointer } from '@flotilla/edge-agent/testing';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { TRUSTED_HEX } from './harness/test-keys.ts';
import { sampleRow } from './harness/test-models.ts';
import { buildAgentBundle, spawnAgent, type AgentLine } from './harness/agent-process.ts';

/** States a good update passes through, and those a self-test failure adds. */
const GOOD_STATES = ['downloading', 'verifying', 'staging', 'activating', 'probing', 'committing'];
const BAD_STATES = ['downloading', 'verifying', 'staging', 'activating', 'probing', 'rolling_back', 'failed'];
const RANDOM_TRIALS = 26;
const PARALLEL = 4;

interface Trial {
  name: string;
  target: 'good' | 'bad';
  crashAt?: string;
  /** ms after the first run reports ready, or (with `afterFirstState`) after its first state change. */
  killAfterMs?: number;
  afterFirstState?: boolean;
}

interface Outcome {
  trial: Trial;
  /** The state the first run was in when it died (from its last state line). */
  killedIn: string;
  readyModel: string | null;
  finalModel: string;
  servedVersions: string[];
}

let h: HarnessServer;
let good: TestBundle;
let bad: TestBundle;
let template: string;
const outcomes: Outcome[] = [];

beforeAll(async () => {
  await buildAgentBundle();
  h = await HarnessServer.start();
  const v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
  good = await makeBundle({ version: '2.0.0', sequence: 2, model: { headSeed: 5 } });
  bad = await makeBundle({ version: '3.0.0', sequence: 3, selfTest: 'fail', model: { headSeed: 8 } });
  h.addBlobs(good.blobs);
  h.addBlobs(bad.blobs);
  // Every trial starts from a device that runs v1: installed once here, copied per trial.
  template = mkdtempSync(join(tmpdir(), 'crash-template-'));
  const agent = await createAgent({ deviceId: 'template', offline: true, dataDir: template, trustedKeys: [TRUSTED_HEX] });
  expect((await agent.install(v1.bytes)).ok).toBe(true);
  await agent.close();
}, 120_000);

afterAll(async () => {
  await h?.close();
  rmSync(template, { recursive: true, force: true });
});

async function runTrial(trial: Trial, index: number): Promise<Outcome> {
  const id = `crash-${index}`;
  const dev = h.addDevice(id);
  const target = trial.target === 'good' ? good : bad;
  await h.setDesired(id, target.ref, { windowSec: 3600 });
  const dataDir = mkdtempSync(join(tmpdir(), `crash-${index}-`));
  cpSync(template, dataDir, { recursive: true });
  const tokenFile = `${dataDir}.token`;
  writeFileSync(tokenFile, dev.token, { mode: 0o600 });
  const args = ['--device-id', id, '--token-file', tokenFile, '--mqtt-url', h.mqttUrl, '--data', dataDir, '--trusted-key', TRUSTED_HEX];
  try {
    // Run 1: dies by SIGKILL, either at the hook or at a random moment.
    const first = spawnAgent(args, trial.crashAt ? { FLOTILLA_AGENT_CRASH_AT: trial.crashAt } : {});
    if (trial.killAfterMs !== undefined) {
      await first.waitFor((l) => (trial.afterFirstState ? l.type === 'state' : l.type === 'ready'), 'first run ready');
      await new Promise((r) => setTimeout(r, trial.killAfterMs));
      first.proc.kill('SIGKILL');
    }
    const died = await first.exited;
    expect(died.signal, `${trial.name}: first run must die by SIGKILL\n${first.stderr()}`).toBe('SIGKILL');
    const killedIn = [...first.lines].reverse().find((l) => l.type === 'state')?.to ?? 'idle';

    // Run 2: restart, and it must serve a verified model at once and finish (or roll back) the update.
    const second = spawnAgent([...args, '--serve', '0']);
    const ready = await second.waitFor((l) => l.type === 'ready', 'restart ready');
    const done = (l: AgentLine) =>
      l.type === 'settled' &&
      (trial.target === 'good'
        ? l.model?.version === '2.0.0'
        : l.lastFailed?.manifestDigest === bad.ref.manifestDigest && l.model?.version === '1.0.0');
    await second.waitFor(done, `${trial.name}: update settled`, 45_000);
    const res = await fetch(`${ready.serve}/v1/predict`, { method: 'POST', body: JSON.stringify({ input: sampleRow(16) }) });
    const prediction = (await res.json()) as { model: { version: string } };
    second.proc.kill('SIGTERM');
    const stopped = await second.exited;
    expect(stopped.code, second.stderr()).toBe(0);
    const served = [...first.lines, ...second.lines].filter((l) => l.type === 'model' && l.model).map((l) => l.model.version as string);
    // What the restarted agent left on disk: nothing mid-update, no trial pointer.
    const storage = await FileStorage.open(dataDir);
    expect((await loadRecord(storage)).state).toBe('idle');
    expect((await readPointer(storage)).trial).toBe(false);
    expect(second.lines.some((l) => l.type === 'state' && l.event === 'loop_guard')).toBe(false);
    return { trial, killedIn, readyModel: ready.model?.version ?? null, finalModel: prediction.model.version, servedVersions: served };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runAll(trials: Trial[], offset: number): Promise<Outcome[]> {
  const results: Outcome[] = new Array(trials.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < trials.length) {
        const i = next++;
        results[i] = await runTrial(trials[i]!, offset + i);
      }
    }),
  );
  return results;
}

function check(o: Outcome): void {
  const name = o.trial.name;
  // A verified model serves right after every restart: v1, or v2 once it had passed its probe; never the failing v3.
  expect(o.readyModel, name).not.toBeNull();
  expect(o.trial.target === 'good' ? ['1.0.0', '2.0.0'] : ['1.0.0'], name).toContain(o.readyModel);
  // The update completed (good) or was rolled back (bad).
  expect(o.finalModel, name).toBe(o.trial.target === 'good' ? '2.0.0' : '1.0.0');
  expect(o.servedVersions.includes('3.0.0'), `${name}: a model that fails its self-test was served`).toBe(false);
}

describe('SIGKILL during updates', () => {
  it('recovers from a kill at every step boundary of a good and of a failing update', async () => {
    const trials: Trial[] = [
      ...GOOD_STATES.flatMap((s) =>
        (['before', 'after'] as const).map((p) => ({ name: `good ${s}:${p}`, target: 'good' as const, crashAt: `${s}:${p}` })),
      ),
      ...BAD_STATES.flatMap((s) =>
        (['before', 'after'] as const).map((p) => ({ name: `bad ${s}:${p}`, target: 'bad' as const, crashAt: `${s}:${p}` })),
      ),
    ];
    const results = await runAll(trials, 0);
    for (const o of results) check(o);
    // The hook fired in the state it names: each one was the first run's last reported state.
    for (const o of results) expect(o.killedIn, o.trial.name).toBe(o.trial.crashAt!.split(':')[0]);
    outcomes.push(...results);
  }, 240_000);

  it('recovers from kills at random moments', async () => {
    const trials: Trial[] = Array.from({ length: RANDOM_TRIALS }, (_, i) => ({
      name: `random #${i}`,
      target: i % 2 === 0 ? ('good' as const) : ('bad' as const),
      // Half from start-up (connect, desired, envelope), half from the first step on (an update here takes a few hundred ms).
      killAfterMs: Math.floor(Math.random() * (i % 4 < 2 ? 600 : 250)),
      afterFirstState: i % 4 >= 2,
    }));
    const results = await runAll(trials, 100);
    for (const o of results) check(o);
    outcomes.push(...results);
    const byState = new Map<string, number>();
    for (const o of results) byState.set(o.killedIn, (byState.get(o.killedIn) ?? 0) + 1);
    console.log(`random kills by state: ${JSON.stringify(Object.fromEntries(byState))}`);
  }, 240_000);

  it('covered at least 50 trials and every state of the update flow', () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(50);
    const states = new Set(outcomes.map((o) => o.killedIn));
    for (const s of new Set([...GOOD_STATES, ...BAD_STATES])) expect(states.has(s), s).toBe(true);
  });
});
