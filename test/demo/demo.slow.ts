// `flotilla demo --ci` end to end (about 2-3 minutes): not in the default run; enable with
// `npx vitest run --dir test/demo --config vitest.config.ts test/demo/demo.slow.ts` after renaming to demo.test.ts.
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/server-process.ts';

describe('flotilla demo --ci', () => {
  it('runs every step, prints a JSON summary and the cars recover within 3 points', async () => {
    const r = await runCli(['demo', '--ci']);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(s.ok).toBe(true);
    expect(s.rollouts.map((x: { state: string }) => x.state)).toEqual(['completed', 'completed']);
    expect(s.accuracy.car.during).toBeLessThan(s.accuracy.car.before);
    expect(s.carRecoveryPoints).toBeGreaterThan(-3);
    expect(s.totalMs).toBeLessThan(300_000);
  }, 360_000);
});
