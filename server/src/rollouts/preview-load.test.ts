// Target previews under parallel load, against a real SQLite file and a fleet whose listing is held open
// until released: identical previews share one walk of the fleet, distinct ones run at most two at a time,
// and beyond the waiting room callers are told the server is busy instead of piling up.
import { afterAll, expect, it } from 'vitest';
import { FakeFleet, rig, scratch } from '@flotilla/test/support/rollout-test-kit';
import type { Target } from './target.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

/** A fleet whose list() calls wait for release(), counting how many walk it at once. */
class HeldFleet extends FakeFleet {
  calls = 0;
  running = 0;
  peak = 0;
  private gates: (() => void)[] = [];
  override async list(target: Target) {
    this.calls++;
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    await new Promise<void>((r) => this.gates.push(r));
    this.running--;
    return super.list(target);
  }
  release() {
    for (const g of this.gates.splice(0)) g();
  }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

it('answers ten identical parallel previews with one walk of the fleet', async () => {
  const fleet = new HeldFleet();
  fleet.add(50);
  const { engine } = rig(tmp.open('same'), { fleet });
  const all = Promise.all(Array.from({ length: 10 }, () => engine.preview({ tags: ['car'] })));
  await until(() => fleet.calls > 0);
  fleet.release();
  const answers = await all;
  expect(fleet.calls).toBe(1);
  expect(answers.every((a) => a.matching === 50)).toBe(true);
});

it('runs distinct previews two at a time and refuses those beyond the waiting room as busy', async () => {
  const fleet = new HeldFleet();
  fleet.add(10);
  const { engine } = rig(tmp.open('distinct'), { fleet });
  const settled = Array.from({ length: 30 }, (_, i) =>
    engine.preview({ tags: ['car'], attributes: { n: String(i) } }).then(
      () => 'ok',
      (e: { code: string; status: number }) => `${e.code} ${e.status}`,
    ),
  );
  await until(() => fleet.running === 2);
  expect(fleet.peak).toBe(2);
  while (fleet.calls < 18) {
    fleet.release();
    await until(() => fleet.running > 0 || fleet.calls >= 18);
  }
  fleet.release();
  const results = await Promise.all(settled);
  expect(fleet.peak).toBe(2);
  expect(results.filter((r) => r === 'ok')).toHaveLength(18);
  expect(results.filter((r) => r === 'ROLLOUT_BUSY 503')).toHaveLength(12);
});
