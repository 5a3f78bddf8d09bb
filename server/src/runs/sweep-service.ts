// Sweeps: a grid or random search over hyperparameters, run as ordinary runs with a concurrency
// limit, ranked on the validation split; the winner alone is registered in the model registry.
import { randomBytes } from 'node:crypto';
import { seededRandom } from '../random/seeded-random.ts';
import { RunError } from './run-error.ts';
import type { Run, Sweep } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import type { RunService, StartRunRequest } from './run-service.ts';
import { classifierSignature } from './signature.ts';

export interface SweepRequest extends Omit<StartRunRequest, 'register' | 'sweepId'> {
  method: 'grid' | 'random';
  /** Hyperparameter name → candidate values (e.g. `{ learningRate: [0.001, 0.003], batchSize: [64, 128] }`). */
  space: Record<string, (number | string)[]>;
  /** Trials to run (random: required; grid: caps the grid, default all points). */
  trials?: number;
  /** Trials trained at once (default 1). */
  concurrency?: number;
  /** Seed of the random search (default 1). */
  seed?: number;
}

export interface RankedTrial {
  rank: number;
  runId: string;
  status: string;
  hyper: Record<string, unknown>;
  valAccuracy: number | null;
  testAccuracy: number | null;
}

/** Cartesian product of the space, in a stable order. */
export function gridPoints(space: Record<string, (number | string)[]>): Record<string, number | string>[] {
  return Object.entries(space).reduce<Record<string, number | string>[]>(
    (acc, [k, values]) => acc.flatMap((p) => values.map((v) => ({ ...p, [k]: v }))),
    [{}],
  );
}

/** `n` points drawn with replacement from the space by the seeded PRNG. */
export function randomPoints(space: Record<string, (number | string)[]>, n: number, seed: number): Record<string, number | string>[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () =>
    Object.fromEntries(Object.entries(space).map(([k, vs]) => [k, vs[Math.floor(rand() * vs.length)]!])),
  );
}

const lastVal = (r: Run): number | null => r.history.at(-1)?.valAccuracy ?? null;

export class SweepService {
  constructor(
    private readonly store: Store,
    private readonly runs: RunService,
  ) {}

  async start(req: SweepRequest, actor: string): Promise<Sweep> {
    const keys = Object.keys(req.space ?? {});
    if (keys.length === 0) throw new RunError('INVALID_SWEEP', 'space must name at least one hyperparameter with candidate values');
    for (const k of keys)
      if (!Array.isArray(req.space[k]) || req.space[k]!.length === 0)
        throw new RunError('INVALID_SWEEP', `space.${k} must be a non-empty list`);
    if (req.method === 'random' && !(Number.isInteger(req.trials) && req.trials! > 0))
      throw new RunError('INVALID_SWEEP', 'random search needs trials >= 1');
    const points =
      req.method === 'grid' ? gridPoints(req.space).slice(0, req.trials ?? Infinity) : randomPoints(req.space, req.trials!, req.seed ?? 1);
    if (points.length > 200) throw new RunError('INVALID_SWEEP', `${points.length} trials is more than the limit of 200`);
    const sweep: Sweep = {
      id: `swp_${randomBytes(6).toString('hex')}`,
      status: 'running',
      model: req.model ?? `${req.dataset}-classifier`,
      config: { ...req },
      runIds: [],
      createdAt: new Date().toISOString(),
      endedAt: null,
    };
    await this.store.sweeps.create(sweep);
    // Validate every trial before any worker starts: a bad point fails the whole sweep up front.
    const runs: Run[] = [];
    for (const p of points) {
      const run = await this.runs.start(
        { ...req, model: sweep.model, hyper: { ...req.hyper, ...p }, register: false, sweepId: sweep.id },
        actor,
      );
      await this.store.sweeps.addRun(sweep.id, run.id);
      runs.push(run);
    }
    void this.finish(
      sweep.id,
      runs.map((r) => r.id),
      actor,
    );
    return (await this.store.sweeps.get(sweep.id))!;
  }

  /** Trials ranked by validation accuracy (best first); unfinished trials last. */
  async ranking(sweepId: string): Promise<{ sweep: Sweep; trials: RankedTrial[] }> {
    const sweep = await this.store.sweeps.get(sweepId);
    if (!sweep) throw RunError.notFound('sweep', sweepId);
    const runs = await this.store.runs.list({ sweepId, limit: 1000 });
    const ranked = runs
      .map((r) => ({ r, v: lastVal(r) }))
      .sort((a, b) => (b.v ?? -1) - (a.v ?? -1))
      .map(({ r, v }, i) => ({
        rank: i + 1,
        runId: r.id,
        status: r.status,
        hyper: r.hyper,
        valAccuracy: v,
        testAccuracy: (r.metrics?.accuracy as number | undefined) ?? null,
      }));
    return { sweep, trials: ranked };
  }

  private async finish(sweepId: string, runIds: string[], actor: string): Promise<void> {
    const ended = await Promise.all(runIds.map((id) => this.runs.wait(id)));
    const best = ended.filter((r) => r.status === 'succeeded').sort((a, b) => (lastVal(b) ?? -1) - (lastVal(a) ?? -1))[0];
    if (best) {
      const ds = await this.store.datasets.get(best.datasetDigest);
      const sig = ds ? classifierSignature(ds.featureShape, ds.classes.length) : null;
      await this.runs.register(best, best.artifacts, sig, best.metrics ?? {}, `best of sweep ${sweepId}`);
      await this.store.audit.record({ actor, action: 'sweep.winner', subject: sweepId, detail: { runId: best.id } });
    }
    await this.store.sweeps.setStatus(sweepId, best ? 'succeeded' : ended.some((r) => r.status === 'cancelled') ? 'cancelled' : 'failed');
  }
}
