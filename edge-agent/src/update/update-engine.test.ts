// The engine's wake-ups: a desired state that arrives while the loop is finishing is not lost.
import { expect, it } from 'vitest';
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import type { ModelHost } from '../model/model-host.ts';
import type { StateMachine } from './state-machine.ts';
import { UpdateEngine } from './update-engine.ts';
import { initialRecord, type UpdateRecord } from './update-record.ts';

const ref = (n: number): BundleRef => ({
  id: `${n}`.repeat(64),
  model: 'm',
  version: `1.0.${n}`,
  sequence: n,
  manifestDigest: `${n}`.repeat(64).replace(/^./, 'd'),
  bytes: 10,
});

it('installs a second desired bundle that arrives in the same turn as the first (one socket read, two messages)', async () => {
  const served = { envelopeDigest: ref(1).manifestDigest };
  const begun: string[] = [];
  const machine = {
    begin: async (r: UpdateRecord, t: { manifestDigest: string; version: string }) => {
      begun.push(t.version);
      return { ...r, state: 'downloading' as const, target: t };
    },
    run: async (r: UpdateRecord) => {
      served.envelopeDigest = r.target!.manifestDigest;
      return { ...r, state: 'idle' as const, target: null };
    },
    resume: async (r: UpdateRecord) => r,
  } as unknown as StateMachine;
  let settled = 0;
  const engine = new UpdateEngine({
    machine,
    host: { current: served } as unknown as ModelHost,
    record: initialRecord(),
    onSettled: () => settled++,
    onError: (e) => {
      throw e;
    },
  });
  // What serves now (the loop finds nothing to do and is on its way out), then the new bundle, same turn.
  engine.setDesired(ref(1));
  engine.setDesired(ref(2));
  await new Promise((r) => setTimeout(r, 20));
  await engine.idle();
  expect(begun).toEqual(['1.0.2']);
  expect(served.envelopeDigest).toBe(ref(2).manifestDigest);
  expect(settled).toBeGreaterThanOrEqual(2);
});
