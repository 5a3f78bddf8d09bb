// Semantic version parsing and precedence (semver 2.0.0 §11), used for minAgentVersion (SPEC §10.2 R3).
import { describe, expect, it } from 'vitest';
import { compareSemver, isSemver, parseSemver } from './semver.ts';

describe('semver', () => {
  it('accepts valid versions and refuses invalid ones', () => {
    for (const v of ['0.0.0', '1.2.3', '1.0.0-rc.1', '1.0.0-alpha-1.x+build.5', '10.20.30+meta']) expect(isSemver(v)).toBe(true);
    for (const v of ['1', '1.2', '01.2.3', '1.2.3-', '1.2.3-01', 'v1.2.3', '1.2.3 ', '', '1.2.3+', `1.2.3-${'a'.repeat(200)}`])
      expect(isSemver(v)).toBe(false);
    expect(isSemver(3)).toBe(false);
  });

  it('orders by precedence, ignoring build metadata', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemver(ordered[i]!, ordered[i + 1]!)).toBeLessThan(0);
      expect(compareSemver(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
    expect(compareSemver('1.0.0+a', '1.0.0+b')).toBe(0);
    expect(parseSemver('1.2.3-rc.1')?.prerelease).toEqual(['rc', '1']);
  });

  it('throws TypeError on an invalid operand', () => {
    expect(() => compareSemver('1.0', '1.0.0')).toThrow(TypeError);
  });
});
