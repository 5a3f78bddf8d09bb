// Payload path rules: every trick that could escape or collide is refused (SPEC §7.1, §7.2).
import { describe, expect, it } from 'vitest';
import { assertDistinctPaths, assertSafePath, isSafePath } from './paths.ts';
import type { BundleError } from '../errors.ts';
import { PATH_TRICKS } from '../testing/hostile-inputs.ts';

describe('assertSafePath [SPEC §7.1]', () => {
  it.each(PATH_TRICKS.map((p) => [JSON.stringify(p), p]))('refuses %s with BUNDLE_PATH_INVALID', (_label, path) => {
    expect(isSafePath(path)).toBe(false);
    try {
      assertSafePath(path);
      expect.unreachable();
    } catch (e) {
      expect((e as BundleError).code).toBe('BUNDLE_PATH_INVALID');
    }
  });

  it('accepts plain relative paths', () => {
    for (const p of ['model.onnx', 'assets/labels.txt', 'a/b/c/d/e/f/g/h', '.hidden', 'v1.2_model-int8.onnx', 'x'.repeat(128)]) {
      expect(isSafePath(p)).toBe(true);
    }
  });

  it('refuses non-strings', () => {
    expect(isSafePath(3)).toBe(false);
    expect(isSafePath(null)).toBe(false);
  });
});

describe('assertDistinctPaths [SPEC §7.2]', () => {
  it.each([[['a.bin', 'a.bin']], [['Model.onnx', 'model.ONNX']], [['a', 'a/b']], [['x/y/z', 'X/y']]])(
    'refuses the colliding set %j',
    (paths) => {
      expect(() => assertDistinctPaths(paths)).toThrow(expect.objectContaining({ code: 'BUNDLE_PATH_INVALID' }));
    },
  );

  it('accepts siblings and shared folders', () => {
    expect(() => assertDistinctPaths(['a/b', 'a/c', 'ab', 'a.b'])).not.toThrow();
  });
});
