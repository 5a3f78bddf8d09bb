// In-memory fakes of the engine's ports, and a real SQLite store per test, for the rollout tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import { openSqliteStore } from '../../server/src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../server/src/store/store.ts';
import type {
  BundleResolver,
  Clock,
  DesiredStatePort,
  DeviceDirectory,
  HealthPort,
  StageHealth,
  StageQuery,
  TargetDevice,
} from '../../server/src/rollouts/ports.ts';
import { RolloutEngine, type RolloutEngineDeps } from '../../server/src/rollouts/rollout-engine.ts';
import { matchesTarget, type Target } from '../../server/src/rollouts/target.ts';

export const T0 = Date.parse('2026-03-01T00:00:00.000Z');

export const bundleRef = (model = 'digits', sequence = 2): BundleRef => ({
  id: (model.length.toString(16) + sequence.toString(16)).padEnd(64, 'a'),
  model,
  version: `1.0.${sequence}`,
  sequence,
  manifestDigest: 'b'.repeat(64),
  bytes: 1000,
});
export const OLD_BUNDLE = 'c'.repeat(64);

export class FakeClock implements Clock {
  constructor(public t = T0) {}
  now(): number {
    return this.t;
  }
  advance(sec: number): void {
    this.t += sec * 1000;
  }
}

export class FakeFleet implements DeviceDirectory {
  readonly devices = new Map<string, TargetDevice>();

  /** Adds `n` devices `prefix0..` with the given tags. */
  add(n: number, over: Partial<TargetDevice> = {}, prefix = 'dev'): string[] {
    const start = [...this.devices.keys()].filter((k) => k.startsWith(prefix)).length;
    return Array.from({ length: n }, (_, i) => {
      const id = `${prefix}${String(start + i).padStart(3, '0')}`;
      this.devices.set(id, { id, tags: ['car'], groups: [], attributes: {}, online: true, currentBundleId: OLD_BUNDLE, ...over });
      return id;
    });
  }
  async list(target: Target): Promise<TargetDevice[]> {
    return [...this.devices.values()].filter((d) => matchesTarget(d, target));
  }
  async get(ids: readonly string[]): Promise<TargetDevice[]> {
    return ids.flatMap((id) => (this.devices.has(id) ? [this.devices.get(id)!] : []));
  }
}

export interface PortCall {
  kind: 'desired' | 'shadow';
  ids: string[];
  /** Bundle id, `rollback:<prev>`, or `clear`. */
  what: string;
}

export class RecordingDelivery implements DesiredStatePort {
  readonly calls: PortCall[] = [];
  async setDesired(ids: readonly string[], what: BundleRef | { rollbackTo: string | null }): Promise<void> {
    this.calls.push({ kind: 'desired', ids: [...ids], what: 'rollbackTo' in what ? `rollback:${what.rollbackTo}` : what.id });
  }
  async setShadow(ids: readonly string[], bundle: BundleRef | null): Promise<void> {
    this.calls.push({ kind: 'shadow', ids: [...ids], what: bundle ? bundle.id : 'clear' });
  }
  /** Every device ever sent anything that names `bundleId` (as desired or shadow). */
  told(bundleId: string): Set<string> {
    return new Set(this.calls.filter((c) => c.what === bundleId).flatMap((c) => c.ids));
  }
}

export const HEALTHY: StageHealth = {
  reporting: 0,
  requests: 10_000,
  errors: 10,
  clientErrors: 0,
  driftSamples: 10_000,
  errorRate: 0.001,
  p95LatencyMs: 12,
  confidenceDrop: 0,
  driftScore: 0.01,
  disagreement: 0.02,
};

/** Every notified device reports, healthy, unless `override` says otherwise for a stage. */
export class ScriptedHealth implements HealthPort {
  readonly queries: StageQuery[] = [];
  override: (q: StageQuery) => Partial<StageHealth> = () => ({});
  async stageStats(q: StageQuery): Promise<StageHealth> {
    this.queries.push(q);
    return { ...HEALTHY, reporting: q.deviceIds.length, ...this.override(q) };
  }
}

export class FakeBundles implements BundleResolver {
  async resolve(ref: { bundle: string } | { model: string }): Promise<BundleRef | null> {
    if ('model' in ref) {
      const [name, v] = ref.model.split('@');
      return name && name !== 'missing' ? bundleRef(name, Number(v ?? 2)) : null;
    }
    return ref.bundle.startsWith('0') ? null : { ...bundleRef(), id: ref.bundle.padEnd(64, '0') };
  }
}

/** A scratch folder of SQLite files, removed by `cleanup`. */
export function scratch(): { path(name: string): string; open(name: string): Store; openFile(file: string): Store; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-rollouts-'));
  let n = 0;
  return {
    path: (name) => join(dir, name),
    open: (name) => openSqliteStore(join(dir, `${name}-${n++}.db`)),
    // Reopening one file stands for a server restart.
    openFile: (file) => openSqliteStore(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Rig {
  store: Store;
  engine: RolloutEngine;
  fleet: FakeFleet;
  delivery: RecordingDelivery;
  health: ScriptedHealth;
  clock: FakeClock;
}

/** An engine over `store` with fresh fakes (or the ones given, to share them across engines). */
export function rig(store: Store, shared: Partial<Omit<Rig, 'store' | 'engine'>> = {}, over: Partial<RolloutEngineDeps> = {}): Rig {
  const fleet = shared.fleet ?? new FakeFleet();
  const delivery = shared.delivery ?? new RecordingDelivery();
  const health = shared.health ?? new ScriptedHealth();
  const clock = shared.clock ?? new FakeClock();
  let n = 0;
  const engine = new RolloutEngine({
    store: store.rollouts,
    devices: fleet,
    desired: delivery,
    health,
    bundles: new FakeBundles(),
    clock,
    audit: store.audit,
    newId: () => `ro_test${String(n++).padStart(4, '0')}`,
    ...over,
  });
  return { store, engine, fleet, delivery, health, clock };
}

/** A request with 60 s bakes and the given stage percents; `over` replaces top-level fields. */
export function request(percents: number[], over: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'digits@2', target: { tags: ['car'] }, stages: percents.map((percent) => ({ percent, bakeSec: 60 })), ...over };
}
