// Shared pieces of the mutation tests: the base bundle, the device's options, and a checker that demands one exact code.
import { expect } from 'vitest';
import { BundleError, type BundleErrorCode } from '../errors.ts';
import { openBundle } from '../verify/open-bundle.ts';
import { testKeyPair, TEST_NOW } from '../testing/bundle-fixtures.ts';

/** The one key the simulated device trusts. */
export const TRUSTED = [testKeyPair('primary').publicKey];

/** Device state: clock, installed sequence 4 (the base bundle has 5), agent 1.0.0. */
export const DEVICE = { now: TEST_NOW, installedSequence: 4, agentVersion: '1.0.0' } as const;

/** Mutated bundles checked so far in this test file. */
export const counter = { checked: 0 };

/**
 * Opens `bytes` as the device would and demands rejection with exactly `code`: any other code,
 * a non-BundleError exception, or acceptance fails the test.
 */
export function expectRejected(bytes: Uint8Array, code: BundleErrorCode, note = ''): void {
  counter.checked++;
  let thrown: unknown;
  try {
    openBundle(bytes, TRUSTED, DEVICE);
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) expect.fail(`mutated bundle was accepted (expected ${code}) ${note}`);
  if (!(thrown instanceof BundleError)) expect.fail(`unexpected ${String(thrown)} (expected ${code}) ${note}`);
  expect(thrown.code, `${thrown.message} ${note}`).toBe(code);
}
