// Cohorts: deterministic, stable under re-planning, and sized as the stages say.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cohortHash, cumulativeQuotas, planCohorts, type Cohort, type StageSize } from './cohorts.ts';

const ids = (n: number, prefix = 'd') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const sizes = (plan: Map<string, Cohort>, stages: number) => {
  const out = new Array<number>(stages + 1).fill(0);
  for (const c of plan.values()) out[c === null ? stages : c]! += 1;
  return out;
};

/** Cumulative percent stages, strictly growing, sometimes stopping short of 100, sometimes a count stage first. */
const stagesArb: fc.Arbitrary<StageSize[]> = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }).map((a) => a.sort((x, y) => x - y)),
    fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  )
  .map(([percents, count]) => [...(count ? [{ count }] : []), ...percents.map((percent) => ({ percent }))]);

describe('cohorts', () => {
  it('the hash is deterministic, in [0,1), and differs per rollout', () => {
    expect(cohortHash('ro_a', 'd1')).toBe(cohortHash('ro_a', 'd1'));
    expect(cohortHash('ro_a', 'd1')).not.toBe(cohortHash('ro_b', 'd1'));
    const hashes = ids(200).map((id) => cohortHash('ro_a', id));
    expect(hashes.every((h) => h >= 0 && h < 1)).toBe(true);
    expect(new Set(hashes).size).toBe(200);
  });

  it.each([
    { stages: [{ percent: 10 }, { percent: 50 }, { percent: 100 }], n: 20, expected: [2, 8, 10, 0] },
    { stages: [{ percent: 10 }, { percent: 50 }, { percent: 100 }], n: 30, expected: [3, 12, 15, 0] },
    { stages: [{ percent: 10 }, { percent: 100 }], n: 3, expected: [1, 2, 0] },
    { stages: [{ count: 5 }, { percent: 50 }], n: 40, expected: [5, 15, 20] },
    { stages: [{ percent: 25 }], n: 0, expected: [0, 0] },
  ])('sizes $stages of $n devices: $expected (last: beyond the stages)', ({ stages, n, expected }) => {
    expect(sizes(planCohorts('ro_x', stages, ids(n)), stages.length)).toEqual(expected);
  });

  it('takes devices in hash order: every device of an earlier stage hashes below every device of a later one', () => {
    const plan = planCohorts('ro_x', [{ percent: 10 }, { percent: 60 }, { percent: 100 }], ids(100));
    const max = (s: number) => Math.max(...[...plan].filter(([, c]) => c === s).map(([d]) => cohortHash('ro_x', d)));
    const min = (s: number) => Math.min(...[...plan].filter(([, c]) => c === s).map(([d]) => cohortHash('ro_x', d)));
    expect(max(0)).toBeLessThan(min(1));
    expect(max(1)).toBeLessThan(min(2));
  });

  it('property: stage sizes match the percentages within rounding', () => {
    fc.assert(
      fc.property(stagesArb, fc.integer({ min: 0, max: 400 }), (stages, n) => {
        const got = sizes(planCohorts('ro_p', stages, ids(n)), stages.length);
        const cum = cumulativeQuotas(stages, n);
        let prevExact = 0;
        stages.forEach((s, i) => {
          expect(got[i]).toBe(cum[i]! - (i === 0 ? 0 : cum[i - 1]!));
          if (s.percent !== undefined && stages[0]!.count === undefined) {
            expect(Math.abs(got[i]! - ((s.percent * n) / 100 - prevExact))).toBeLessThan(1 + 1e-9);
            prevExact = (s.percent * n) / 100;
          }
        });
        expect(got.reduce((a, b) => a + b, 0)).toBe(n);
      }),
    );
  });

  it('property: re-planning with more devices never moves a device, and sizes stay within one per stage', () => {
    fc.assert(
      fc.property(
        stagesArb,
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 5 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        (stages, batches, rid) => {
          let plan = new Map<string, Cohort>();
          let all: string[] = [];
          for (const [b, n] of batches.entries()) {
            const before = new Map(plan);
            all = [...all, ...ids(n, `b${b}-`)];
            plan = planCohorts(rid, stages, all, before);
            for (const [d, c] of before) expect(plan.get(d)).toBe(c);
            expect(plan.size).toBe(all.length);
            const got = sizes(plan, stages.length);
            const cum = cumulativeQuotas(stages, all.length);
            const want = [...cum.map((c, i) => c - (i === 0 ? 0 : cum[i - 1]!)), all.length - (cum.at(-1) ?? 0)];
            const off = got.map((g, i) => Math.abs(g - want[i]!));
            expect(off.reduce((a, x) => a + x, 0)).toBeLessThanOrEqual(2 * (stages.length + 1));
          }
          // The same inputs always give the same plan.
          const again = batches.reduce(
            (p, _n, b) =>
              planCohorts(
                rid,
                stages,
                all.filter((d) => Number(d.slice(1, d.indexOf('-'))) <= b),
                p,
              ),
            new Map<string, Cohort>(),
          );
          expect(again).toEqual(plan);
        },
      ),
      { numRuns: 100 },
    );
  });
});
