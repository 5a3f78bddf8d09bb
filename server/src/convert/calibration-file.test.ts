// Calibration samples from .npy (NumPy's format, built here byte by byte) and JSON files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSampleJson, readSampleFile } from './calibration-file.ts';
import { readNpy } from './npy.ts';

/** An .npy v1.0 file as numpy.save writes it (header padded to a multiple of 64 bytes). */
function npy(descr: string, shape: number[], body: Uint8Array, fortran = false): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = new TextEncoder().encode(dict + ' '.repeat(pad % 64) + '\n');
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(header, 10);
  out.set(body, 10 + header.length);
  return out;
}

const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-calib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readNpy', () => {
  it('reads little-endian float32, big-endian float32, float64 and uint8 in C order', () => {
    const f4 = npy('<f4', [2, 2], new Uint8Array(Float32Array.of(1, 2.5, -3, 4).buffer));
    expect(readNpy(f4)).toEqual({ shape: [2, 2], dtype: '<f4', data: Float32Array.of(1, 2.5, -3, 4) });
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2, false);
    expect(readNpy(npy('>f4', [2, 1], be)).data).toEqual(Float32Array.of(1.5, -2));
    expect(readNpy(npy('<f8', [1, 2], new Uint8Array(Float64Array.of(0.25, 8).buffer))).data).toEqual(Float32Array.of(0.25, 8));
    expect(readNpy(npy('|u1', [3, 1], Uint8Array.of(0, 128, 255))).data).toEqual(Float32Array.of(0, 128, 255));
  });

  it('refuses Fortran order, unknown dtypes, bad magic and short data', () => {
    expect(() => readNpy(npy('<f4', [1, 1], new Uint8Array(4), true))).toThrow(/Fortran/);
    expect(() => readNpy(npy('<c8', [1, 1], new Uint8Array(8)))).toThrow(/not supported/);
    expect(() => readNpy(new Uint8Array(20))).toThrow(expect.objectContaining({ code: 'CALIBRATION_FILE_INVALID' }));
    expect(() => readNpy(npy('<f4', [4, 4], new Uint8Array(8)))).toThrow(/shape needs/);
  });
});

describe('sample files', () => {
  it('reads .npy and the three JSON forms, with labels', async () => {
    writeFileSync(path.join(dir, 'x.npy'), npy('<f4', [2, 3], new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer)));
    expect(await readSampleFile(path.join(dir, 'x.npy'))).toEqual({ shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
    expect(parseSampleJson('[[1,2],[3,4]]')).toEqual({ shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    expect(parseSampleJson('{"inputs":[[[1],[2]]],"labels":[1]}')).toEqual({ shape: [1, 2, 1], data: Float32Array.of(1, 2), labels: [1] });
    writeFileSync(path.join(dir, 'x.json'), '{"data":[1,2,3,4],"shape":[2,2],"labels":[0,1]}');
    expect(await readSampleFile(path.join(dir, 'x.json'))).toEqual({ shape: [2, 2], data: Float32Array.of(1, 2, 3, 4), labels: [0, 1] });
  });

  it('refuses ragged arrays, wrong counts, bad labels and unreadable files', async () => {
    for (const text of [
      '[[1,2],[3]]',
      '{"data":[1,2,3],"shape":[2,2]}',
      '{"inputs":[[1,2]],"labels":[0.5]}',
      '{"x":1}',
      '[1,2,3]',
      'nope',
    ]) {
      expect(() => parseSampleJson(text), text).toThrow(expect.objectContaining({ code: 'CALIBRATION_FILE_INVALID' }));
    }
    await expect(readSampleFile(path.join(dir, 'absent.npy'))).rejects.toMatchObject({ code: 'CALIBRATION_FILE_INVALID' });
  });
});
