// Demo steps that talk to the API: bundle a registered version and roll it out canary-first, timing it and
// measuring the bytes the server sent for it.
import { createProgressBar } from '../progress.ts';
import type { FleetSimulator } from '../../simulator/index.ts';
import type { BundleRecord, RolloutStatusAnswer } from '../../api/contract.ts';
import type { RolloutSummary } from './summary.ts';
import { bytesServed } from './delivery-bytes.ts';

/** An untyped call whose answer the caller names with a type from the API face. */
export type Api = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

/** Gates a demo model passes: install success only (the fleet is simulated, its health is the story later). */
const GATES = { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `get` every `everyMs` until `done` holds; throws after `timeoutMs` naming `what`. */
export async function until<T>(
  get: () => Promise<T> | T,
  done: (v: T) => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Builds a signed bundle of `model` (`name@version`) as semver `version`; returns its id and size in bytes. */
export async function makeBundle(api: Api, model: string, version: string): Promise<{ id: string; bytes: number }> {
  const b = await api<BundleRecord>('POST', '/api/v1/bundles', { model, version });
  return { id: b.id, bytes: b.bytes };
}

/** Rolls a bundle out to every device, 10% canary then 100%, and waits until every device serves `version`. */
export async function rollOut(
  api: Api,
  sim: FleetSimulator,
  o: {
    bundle: { id: string; bytes: number };
    version: string;
    bakeSec: number;
    progress: boolean;
    server: string;
    token: string;
  },
): Promise<RolloutSummary> {
  const sentBefore = await bytesServed(o.server, o.token);
  const t0 = Date.now();
  const stages = [10, 100].map((percent) => ({ percent, bakeSec: o.bakeSec, gates: GATES }));
  const r = await api<RolloutStatusAnswer>('POST', '/api/v1/rollouts', {
    bundle: o.bundle.id,
    target: { all: true },
    stages,
    reason: `demo: ${o.version}`,
  });
  const total = sim.devices.length;
  const bar = createProgressBar(`rollout ${o.version}`, process.stderr, o.progress);
  const s = await until(
    () => api<RolloutStatusAnswer>('GET', `/api/v1/rollouts/${r.id}`),
    (x) => {
      bar.update(sim.versions()[o.version] ?? 0, total, `stage ${Number(x.current ?? 0) + 1}/${stages.length} ${x.state}`);
      return ['completed', 'paused', 'aborted', 'rolled_back'].includes(x.state);
    },
    120_000,
    `rollout of ${o.version}`,
  );
  if (s.state === 'completed')
    await until(
      () => sim.versions(),
      (v) => v[o.version] === total,
      60_000,
      `every device on ${o.version}`,
    );
  bar.stop();
  if (s.state !== 'completed') throw new Error(`rollout ${r.id} ended ${s.state}: ${JSON.stringify(s.stages.map((x) => x.verdict))}`);
  const durationMs = Date.now() - t0;
  return {
    version: o.version,
    bundle: o.bundle.id,
    bundleBytes: o.bundle.bytes,
    devices: total,
    state: s.state,
    durationMs,
    bytesSent: (await bytesServed(o.server, o.token)) - sentBefore,
  };
}
