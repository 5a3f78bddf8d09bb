// export-c output compiles under gcc -Wall -Wextra -Werror and gives back the model byte for byte (SPEC §14).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gccMissing } from '@flotilla/test/support/tools';
import { generateC } from './generate-c.ts';
import { writeExportC } from '../node/export-c-files.ts';
import { makeTestBundle, pseudoRandomBytes } from '../testing/bundle-fixtures.ts';
import { sha256Hex } from '../bytes.ts';

const packed = await makeTestBundle();
const model = pseudoRandomBytes(100_003, 77); // odd length: the last initializer line is partial
const input = {
  model,
  manifestBytes: packed.manifestBytes,
  manifest: packed.manifest,
  signatures: packed.signatures,
  symbol: 'demo_model',
};

const PROGRAM = `#include <stdint.h>
#include <stdio.h>
#include "demo_model.h"
/* Writes the embedded model and manifest back out and prints the macros, for the test to compare. */
int main(int argc, char **argv) {
  FILE *f;
  if (argc != 3) return 2;
  if (((uintptr_t)demo_model_data) % 16u != 0u) return 3;
  if (demo_model_len != DEMO_MODEL_LEN || demo_model_manifest[DEMO_MODEL_MANIFEST_LEN] != 0u) return 4;
  f = fopen(argv[1], "wb");
  if (f == NULL || fwrite(demo_model_data, 1, demo_model_len, f) != demo_model_len) return 5;
  fclose(f);
  f = fopen(argv[2], "wb");
  if (f == NULL || fwrite(demo_model_manifest, 1, demo_model_manifest_len, f) != demo_model_manifest_len) return 6;
  fclose(f);
  printf("%s\\n%u\\n%s\\n%u\\n%s\\n", DEMO_MODEL_SHA256, (unsigned)DEMO_MODEL_LEN, DEMO_MODEL_MANIFEST_SHA256, (unsigned)DEMO_MODEL_SEQUENCE, DEMO_MODEL_SIGNATURE_KEY_ID);
  return 0;
}
`;

describe('generateC [SPEC §14]', () => {
  it('declares a 16-byte-aligned array, length and sha256 macros', () => {
    const files = generateC(input);
    expect(files.headerName).toBe('demo_model.h');
    expect(files.header).toContain(`#define DEMO_MODEL_LEN ${model.length}u`);
    expect(files.header).toContain(`#define DEMO_MODEL_SHA256 "${sha256Hex(model)}"`);
    expect(files.source).toContain('DEMO_MODEL_ALIGN16 const unsigned char demo_model_data[DEMO_MODEL_LEN] = {');
    expect(files.source).toContain('_Alignas(16)');
    expect(files.source).toContain('__attribute__((aligned(16)))');
  });

  it('refuses bad symbols and empty models with BUNDLE_INPUT_INVALID', () => {
    for (const symbol of ['1abc', 'Demo', 'a-b', '', 'x'.repeat(49)]) {
      expect(() => generateC({ ...input, symbol })).toThrow(expect.objectContaining({ code: 'BUNDLE_INPUT_INVALID' }));
    }
    expect(() => generateC({ ...input, model: new Uint8Array(0) })).toThrow(expect.objectContaining({ code: 'BUNDLE_INPUT_INVALID' }));
  });
});

describe.skipIf(gccMissing())('export-c compiled with gcc [SPEC §14]', () => {
  it.each(['c99', 'c11'])('compiles warning-free as %s and writes the model back byte-identical', async (std) => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-export-c-'));
    await writeExportC(input, dir);
    writeFileSync(join(dir, 'main.c'), PROGRAM);
    const exe = join(dir, 'dump');
    const cc = spawnSync('gcc', [`-std=${std}`, '-Wall', '-Wextra', '-Werror', '-pedantic', '-O1', '-o', exe, 'main.c', 'demo_model.c'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
    const run = spawnSync(exe, [join(dir, 'model.out'), join(dir, 'manifest.out')], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'model.out')), Buffer.from(model))).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'manifest.out')), Buffer.from(packed.manifestBytes))).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      sha256Hex(model),
      String(model.length),
      sha256Hex(packed.manifestBytes),
      '5',
      packed.signatures[0]!.keyId,
      '',
    ]);
  });
});
