// The committed golden bundle still verifies, its manifest digest is pinned, and the generator reproduces it (format stability).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildGoldenFixtures } from '../scripts/golden.ts';
import { tinyOnnxLogits } from '../scripts/tiny-onnx.ts';
import { openBundle } from './verify/open-bundle.ts';
import { decodePublicKeyFile } from './keys/key-file.ts';
import { diffManifests } from './diff.ts';
import { bytesEqual } from './bytes.ts';

const dir = fileURLToPath(new URL('../../test/fixtures/bundles/', import.meta.url));
const read = (name: string) => new Uint8Array(readFileSync(dir + name));
const trusted = [decodePublicKeyFile(readFileSync(`${dir}test-signing.pub`, 'utf8'))];
const now = Date.parse('2030-01-01T00:00:00.000Z');

/** Pinned identities: changing them means the format changed, which needs a new format version. */
const GOLDEN_MANIFEST_DIGEST = '036e8f93cc221d3a957d0c136b7491dc8735f69f397acf1fa32759494d3ab492';
const GOLDEN_V2_MANIFEST_DIGEST = '9edbb901327e4b5dd0e2e642ed3a41888ec32e7eb47aab6899f5f67769ee94ff';
const GOLDEN_KEY_ID = '129effa2ac878980';

describe('golden fixtures [SPEC §1.3]', () => {
  it('the committed golden bundle verifies with the committed test key, digest unchanged', () => {
    const opened = openBundle(read('golden.fbundle'), trusted, { now, installedSequence: 0, agentVersion: '0.1.0' });
    expect(opened.manifestDigest).toBe(GOLDEN_MANIFEST_DIGEST);
    expect(opened.keyIds).toEqual([GOLDEN_KEY_ID]);
    expect(bytesEqual(opened.files.get('model.onnx')!, read('model.onnx'))).toBe(true);
    expect(opened.manifest.model).toEqual({ name: 'golden-sensor', version: '1.0.0', sequence: 1, file: 'model.onnx' });
  });

  it("golden-v2 (sequence 2, head retrained) verifies and shares the unchanged file's chunks", () => {
    const v1 = openBundle(read('golden.fbundle'), trusted, { now });
    const v2 = openBundle(read('golden-v2.fbundle'), trusted, { now, installedSequence: 1 });
    expect(v2.manifestDigest).toBe(GOLDEN_V2_MANIFEST_DIGEST);
    const d = diffManifests(v1.manifest, v2.manifest);
    expect(d.files.map((f) => [f.path, f.status])).toEqual([
      ['model.onnx', 'changed'],
      ['labels.txt', 'unchanged'],
    ]);
  });

  it('self-test vectors hold the float32 outputs of the tiny model', () => {
    const { manifest } = openBundle(read('golden.fbundle'), trusted, { now });
    for (const t of manifest.selfTests!) expect(t.expected.logits).toEqual(tinyOnnxLogits(t.inputs.input!));
  });

  it('make-golden reproduces every committed fixture byte for byte', async () => {
    for (const [name, bytes] of Object.entries(await buildGoldenFixtures())) {
      expect(
        bytesEqual(read(name), bytes),
        `${name} differs from the generator: run scripts/make-golden.ts only for a new format version`,
      ).toBe(true);
    }
  });
});
