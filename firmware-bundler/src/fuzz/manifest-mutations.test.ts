// Property tests: thousands of validly signed but hostile manifests, each refused with its one code (SPEC §4.10, §7, §10).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { DEFAULT_LIMITS } from '../limits.ts';
import { frameRawManifest, makeTestBundle, testSigner, TEST_NOW } from '../testing/bundle-fixtures.ts';
import { PATH_TRICKS } from '../testing/hostile-inputs.ts';
import { encodeBundle } from '../container/encode-bundle.ts';
import { signManifest } from '../keys/manifest-signature.ts';
import { isSemver } from '../semver.ts';
import { BundleError, type BundleErrorCode } from '../errors.ts';
import { unpackBundle } from '../node/unpack.ts';
import type { BundleManifest } from '../manifest/types.ts';
import { counter, DEVICE, expectRejected, TRUSTED } from './fuzz-support.ts';

const base = await makeTestBundle();
const primary = testSigner('primary');
const clone = (): any => structuredClone(base.manifest) as BundleManifest;
const signed = (m: unknown) => frameRawManifest(m, base.chunks, [primary]);

async function check(m: unknown, code: BundleErrorCode, note = ''): Promise<void> {
  expectRejected(await signed(m), code, note);
}

describe('signed hostile manifests [SPEC §4.10, §10.2]', () => {
  it('the base manifest re-signed is accepted', async () => {
    const { openBundle } = await import('../verify/open-bundle.ts');
    expect(openBundle(await signed(clone()), TRUSTED, DEVICE).manifest.model.sequence).toBe(5);
  });

  it('wrong keys: untrusted signers are BUNDLE_KEY_UNTRUSTED, a trusted id on a foreign signature BUNDLE_SIGNATURE_INVALID', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== 'primary'),
        fc.boolean(),
        async (label, forge) => {
          const signer = testSigner(label);
          const [sig] = await signManifest(base.manifestBytes, [signer]);
          const signatures = forge ? [{ keyId: primary.keyId, signature: sig!.signature }] : [sig!];
          const bytes = encodeBundle({ manifestBytes: base.manifestBytes, signatures, chunks: base.chunks });
          expectRejected(bytes, forge ? 'BUNDLE_SIGNATURE_INVALID' : 'BUNDLE_KEY_UNTRUSTED', `(${label})`);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('expired manifests are BUNDLE_EXPIRED', async () => {
    const created = Date.parse(base.manifest.createdAt);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: created + 1, max: TEST_NOW - 1 }), async (expires) => {
        const m = clone();
        m.expiresAt = new Date(expires).toISOString();
        await check(m, 'BUNDLE_EXPIRED', m.expiresAt);
      }),
      { numRuns: 400 },
    );
  });

  it('sequences not above the installed one are BUNDLE_ROLLBACK', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: DEVICE.installedSequence }), async (sequence) => {
        const m = clone();
        m.model.sequence = sequence;
        await check(m, 'BUNDLE_ROLLBACK');
      }),
      { numRuns: 400 },
    );
  });

  it("a minimum agent version above the device's is BUNDLE_RUNTIME_INCOMPATIBLE", async () => {
    const newer = fc.tuple(fc.nat(50), fc.nat(50), fc.nat(50)).filter(([a, b, c]) => a > 1 || (a === 1 && b + c > 0));
    await fc.assert(
      fc.asyncProperty(newer, async ([a, b, c]) => {
        const m = clone();
        m.runtime.minAgentVersion = `${a}.${b}.${c}`;
        await check(m, 'BUNDLE_RUNTIME_INCOMPATIBLE', m.runtime.minAgentVersion);
      }),
      { numRuns: 200 },
    );
  });

  it('oversized declared sizes and counts are BUNDLE_TOO_LARGE', async () => {
    const L = DEFAULT_LIMITS;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('fileSize', 'chunkLength', 'fileCount'),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        async (what, extra) => {
          const m = clone();
          if (what === 'fileSize') m.files[0].size = Math.min(Number.MAX_SAFE_INTEGER, L.maxFileBytes + extra);
          else if (what === 'chunkLength') m.files[1].chunks[0].length = Math.min(Number.MAX_SAFE_INTEGER, L.maxChunkBytes + extra);
          else m.files = Array.from({ length: L.maxFiles + 1 + (extra % 8) }, (_, i) => ({ ...m.files[0], path: `f${i}` }));
          await check(m, 'BUNDLE_TOO_LARGE', what);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('wrong file digests in a signed manifest are BUNDLE_FILE_CORRUPT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(1), fc.stringMatching(/^[0-9a-f]{64}$/), async (i, digest) => {
        fc.pre(digest !== base.manifest.files[i]!.sha256);
        const m = clone();
        m.files[i].sha256 = digest;
        await check(m, 'BUNDLE_FILE_CORRUPT');
      }),
      { numRuns: 200 },
    );
  });

  it('schema violations are BUNDLE_MALFORMED, other format versions BUNDLE_VERSION_UNSUPPORTED', async () => {
    const required = ['model', 'createdAt', 'expiresAt', 'chunking', 'files'];
    const wrong = fc.constantFrom<unknown>(null, 'x', -1, 1.5, true, [], {});
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete'), key: fc.constantFrom(...required, 'formatVersion') }),
      fc.record({ kind: fc.constant('retype'), key: fc.constantFrom(...required), value: wrong }),
      fc.record({ kind: fc.constant('unknown'), key: fc.string({ minLength: 1, maxLength: 10 }), value: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ kind: fc.constant('version'), value: fc.integer({ min: -5, max: 1000 }) }),
      fc.record({ kind: fc.constant('semver'), value: fc.string({ maxLength: 12 }) }),
      fc.record({
        kind: fc.constant('sequence'),
        value: fc.oneof(
          fc.integer({ max: 0 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
        ),
      }),
      fc.record({ kind: fc.constant('offset'), value: fc.integer({ min: 1, max: 1000 }) }),
    );
    const known = new Set(
      Object.keys(base.manifest).concat(
        'formatVersion',
        'lineage',
        'signature',
        'preprocessing',
        'labels',
        'quantization',
        'referenceProfile',
        'selfTests',
        'runtime',
        'extensions',
      ),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (mu: any) => {
        const m = clone();
        let code: BundleErrorCode = 'BUNDLE_MALFORMED';
        switch (mu.kind) {
          case 'delete':
            delete m[mu.key];
            break;
          case 'retype':
            m[mu.key] = mu.value;
            break;
          case 'unknown':
            fc.pre(!known.has(mu.key));
            Object.defineProperty(m, mu.key, { value: mu.value, enumerable: true, configurable: true, writable: true });
            break;
          case 'version':
            fc.pre(mu.value !== 1);
            m.formatVersion = mu.value;
            code = 'BUNDLE_VERSION_UNSUPPORTED';
            break;
          case 'semver':
            fc.pre(!isSemver(mu.value));
            m.model.version = mu.value;
            break;
          case 'sequence':
            m.model.sequence = mu.value;
            break;
          case 'offset':
            m.files[0].chunks[1].offset += mu.value;
            break;
        }
        await check(m, code, JSON.stringify(mu));
      }),
      { numRuns: 800 },
    );
  });
});

describe('path tricks never write outside the target [SPEC §7]', () => {
  let sandbox = '';
  let target = '';
  beforeAll(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'flotilla-fuzz-'));
    target = join(sandbox, 'a', 'b', 'target');
    mkdirSync(join(sandbox, 'a', 'b'), { recursive: true });
  });
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  const trick = fc.oneof(
    fc.constantFrom(...PATH_TRICKS),
    fc
      .tuple(fc.constantFrom('../', '../../', '/', '\\', '..\\', 'C:\\', 'a/../../', './', 'a//'), fc.stringMatching(/^[a-z]{1,8}$/))
      .map(([p, s]) => p + s),
  );

  async function unpackMustNotEscape(m: any, expected: BundleErrorCode | undefined): Promise<void> {
    counter.checked++;
    const bytes = await signed(m);
    let thrown: unknown;
    try {
      await unpackBundle(bytes, target, { trusted: TRUSTED, ...DEVICE });
    } catch (err) {
      thrown = err;
    }
    if (thrown !== undefined && !(thrown instanceof BundleError)) expect.fail(`unexpected ${String(thrown)}`);
    if (expected) expect((thrown as BundleError | undefined)?.code, JSON.stringify(m.files[1].path)).toBe(expected);
    // Nothing may appear in the sandbox but the folders leading to the target, and a refused bundle
    // writes nothing at all, not even the target folder.
    const entries = readdirSync(sandbox, { recursive: true })
      .map(String)
      .map((e) => e.split(sep).join('/'));
    const allowed = (e: string) => ['a', 'a/b'].includes(e) || (!thrown && (e === 'a/b/target' || e.startsWith('a/b/target/')));
    expect(
      entries.filter((e) => !allowed(e)),
      JSON.stringify(m.files[1].path),
    ).toEqual([]);
    rmSync(target, { recursive: true, force: true });
  }

  it('known and generated tricks are BUNDLE_PATH_INVALID and write nothing', async () => {
    await fc.assert(
      fc.asyncProperty(trick, async (path) => {
        const m = clone();
        m.files[1].path = path;
        await unpackMustNotEscape(m, 'BUNDLE_PATH_INVALID');
      }),
      { numRuns: 600 },
    );
  });

  it('arbitrary strings as paths are either refused or written inside the target', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40, unit: 'binary' }), async (path) => {
        const m = clone();
        m.files[1].path = path;
        await unpackMustNotEscape(m, undefined);
      }),
      { numRuns: 200 },
    );
  });

  afterAll(() => {
    // With container-mutations.test.ts (≥ 8,300) this makes more than 10,000 mutated bundles.
    expect(counter.checked).toBeGreaterThanOrEqual(3000);
    console.log(`manifest mutations checked: ${counter.checked}`);
  });
});
