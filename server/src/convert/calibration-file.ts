// Calibration or evaluation samples from a file: `.npy` (one array, samples first) or JSON.
import { readFile } from 'node:fs/promises';
import { ConvertError } from './convert-error.ts';
import { readNpy } from './npy.ts';

/** Samples read from a file, with labels when the JSON carries them. */
export interface SampleFile {
  data: Float32Array;
  /** Shape including the sample dimension first. */
  shape: number[];
  labels?: number[];
}

function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/**
 * Parses JSON samples: a nested array (samples first), `{ "inputs": nested array, "labels"?: number[] }`,
 * or `{ "data": number[], "shape": number[], "labels"?: number[] }`.
 */
export function parseSampleJson(text: string): SampleFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConvertError('CALIBRATION_FILE_INVALID', `calibration JSON does not parse: ${(err as Error).message}`);
  }
  const obj = (Array.isArray(json) ? { inputs: json } : json) as { inputs?: unknown; data?: unknown; shape?: unknown; labels?: unknown };
  let data: Float32Array;
  let shape: number[];
  if (Array.isArray(obj.inputs)) {
    shape = nestedShape(obj.inputs);
    const flat = (obj.inputs as unknown[]).flat(Infinity);
    if (flat.length !== shape.reduce((a, b) => a * b, 1) || flat.some((x) => typeof x !== 'number')) {
      throw new ConvertError('CALIBRATION_FILE_INVALID', 'calibration inputs must be a rectangular array of numbers');
    }
    data = Float32Array.from(flat as number[]);
  } else if (Array.isArray(obj.data) && Array.isArray(obj.shape)) {
    shape = (obj.shape as unknown[]).map(Number);
    data = Float32Array.from(obj.data as number[]);
    if (data.length !== shape.reduce((a, b) => a * b, 1) || data.some(Number.isNaN)) {
      throw new ConvertError(
        'CALIBRATION_FILE_INVALID',
        `calibration data holds ${data.length} numbers, shape ${JSON.stringify(shape)} needs another count`,
      );
    }
  } else {
    throw new ConvertError(
      'CALIBRATION_FILE_INVALID',
      'calibration JSON must be an array, { inputs, labels? } or { data, shape, labels? }',
    );
  }
  if (shape.length < 2)
    throw new ConvertError('CALIBRATION_FILE_INVALID', 'calibration samples need a sample dimension and at least one feature dimension');
  const labels = Array.isArray(obj.labels) ? (obj.labels as unknown[]).map(Number) : undefined;
  if (labels && (labels.length !== shape[0] || labels.some((l) => !Number.isInteger(l)))) {
    throw new ConvertError('CALIBRATION_FILE_INVALID', `labels must be ${shape[0]} integers`);
  }
  return { data, shape, ...(labels ? { labels } : {}) };
}

/** Reads samples from a `.npy` or `.json` file (by extension; anything else is tried as .npy, then JSON). */
export async function readSampleFile(path: string): Promise<SampleFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    throw new ConvertError('CALIBRATION_FILE_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (path.endsWith('.json')) return parseSampleJson(new TextDecoder().decode(bytes));
  if (path.endsWith('.npy') || bytes[0] === 0x93) {
    const arr = readNpy(bytes);
    if (arr.shape.length < 2)
      throw new ConvertError('CALIBRATION_FILE_INVALID', 'the .npy array needs a sample dimension and at least one feature dimension');
    return { data: arr.data, shape: arr.shape };
  }
  return parseSampleJson(new TextDecoder().decode(bytes));
}
